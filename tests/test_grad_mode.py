"""no_grad, enable_grad, set_grad_enabled as context managers and decorators."""

import chainrule as cr


def test_no_grad_context_and_decorator() -> None:
    x = cr.ones(2, requires_grad=True)
    with cr.no_grad():
        assert not cr.is_grad_enabled()
        y = x * 2
        with cr.enable_grad():
            z = x * 2
    assert not y.requires_grad and z.requires_grad and cr.is_grad_enabled()

    @cr.no_grad()
    def infer(t: cr.Tensor) -> cr.Tensor:
        return t * 3

    assert not infer(x).requires_grad and cr.is_grad_enabled()


def test_set_grad_enabled_forms() -> None:
    x = cr.ones(1, requires_grad=True)
    with cr.set_grad_enabled(False):
        assert not (x * 2).requires_grad
    assert cr.is_grad_enabled()
    cr.set_grad_enabled(False)
    try:
        assert not (x * 2).requires_grad
    finally:
        cr.set_grad_enabled(True)

    @cr.set_grad_enabled(False)
    def f(t: cr.Tensor) -> cr.Tensor:
        return t * 2

    assert cr.is_grad_enabled() and not f(x).requires_grad


def test_grad_mode_restored_after_exception() -> None:
    try:
        with cr.no_grad():
            raise ValueError
    except ValueError:
        pass
    assert cr.is_grad_enabled()
