"""The README's Python snippets run as written, in order, in one namespace (a later snippet
uses what an earlier one defined, as a reader typing them into one session would)."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"


def python_snippets() -> list[str]:
    return re.findall(r"^```python\n(.*?)^```", README.read_text(encoding="utf-8"),
                      flags=re.S | re.M)


def test_the_readme_has_the_first_look_and_the_training_step() -> None:
    snippets = python_snippets()
    assert len(snippets) >= 2
    assert any("loss.backward()" in s and "optimizer.step()" in s for s in snippets)


def test_readme_snippets_run_as_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {"__name__": "__readme__"}
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the snippets teach the loop that warns about nothing
        for i, snippet in enumerate(python_snippets()):
            exec(compile(snippet, f"README.md python snippet {i + 1}", "exec"), namespace)
    out = capsys.readouterr().out
    assert "13002" in out  # the tutorials' network's parameter count, printed in the snippet
    mean_loss = float(out.split("mean loss ")[1].split()[0])
    assert mean_loss < 2.1  # an epoch of mini-MNIST trains it (1.8; 2.3 untrained)
