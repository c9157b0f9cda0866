"""``torch.linalg``'s names that chainrule has: norms and the matrix product.

>>> import chainrule as cr
>>> cr.linalg.norm(cr.tensor([3.0, 4.0]))
tensor(5.)
"""

from chainrule.ops.linalg import matmul
from chainrule.ops.norms import linalg_norm as norm
from chainrule.ops.norms import matrix_norm, vector_norm

__all__ = ["matmul", "matrix_norm", "norm", "vector_norm"]
