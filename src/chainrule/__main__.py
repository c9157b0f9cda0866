"""``python -m chainrule``: the command line (as the ``chainrule`` script), also under
``mpiexec -n 4 python -m mpi4py -m chainrule train ...``."""

import sys

from chainrule.cli import main

if __name__ == "__main__":
    sys.exit(main())
