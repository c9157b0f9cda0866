"""Primitive ops: one :class:`~chainrule.autograd.Function` per op, forward and backward together."""
