"""Primitive ops: one ``Function`` subclass per op, forward and backward side by side."""
