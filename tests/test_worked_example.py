"""The tutorials' worked 2-2-2 example: every number to the digits the tutorial prints."""

import pytest

import worked_example as we  # examples/ is on sys.path (conftest)


def test_forward_and_first_step_exact() -> None:
    r = we.run(steps=1)
    assert round(r["out_before"][0], 8) == 0.75136507
    assert round(r["error_before"], 9) == 0.298371109
    w5, w6, w7, w8 = (w for row in r["w_output_after_1"] for w in row)
    assert (round(w5, 8), round(w6, 9), round(w7, 9), round(w8, 9)) == (
        0.35891648, 0.408666186, 0.511301270, 0.561370121)
    w1, w2, w3, w4 = (w for row in r["w_hidden_after_1"] for w in row)
    assert (round(w1, 9), round(w2, 8), round(w3, 8), round(w4, 8)) == (
        0.149780716, 0.19956143, 0.24975114, 0.29950229)
    assert round(r["error_after_1"], 9) == 0.291027774


def test_correct_backprop_after_10000_steps() -> None:
    r = we.run(steps=10_000)
    assert f"{r['error_after']:.5e}" == "3.51019e-05"
    assert (round(r["out_after"][0], 7), round(r["out_after"][1], 7)) == (0.0159136, 0.9840643)


def test_published_variant_reproduces_the_tutorials_numbers() -> None:
    one = we.run(steps=1, as_published=True)
    assert round(one["error_after_1"], 9) == 0.291027924
    r = we.run(steps=10_000, as_published=True)
    assert round(r["error_after"], 9) == 0.000035085
    assert (round(r["out_after"][0], 9), round(r["out_after"][1], 9)) == (0.015912196,
                                                                         0.984065734)


def test_script_prints_the_explanation(capsys: pytest.CaptureFixture[str]) -> None:
    we.main(["--quick", "--as-published"])
    out = capsys.readouterr().out
    assert "already updated" in out and "E_total before the step = 0.298371109" in out
