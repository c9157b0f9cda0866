"""README.zh-CN.md: linked both ways, the same set-up commands and sections as README.md, and
its Python snippet runs."""

import re
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ENGLISH = (ROOT / "README.md").read_text(encoding="utf-8")
CHINESE = (ROOT / "README.zh-CN.md").read_text(encoding="utf-8")


def _bash_blocks(text: str) -> list[str]:
    return re.findall(r"^```bash\n(.*?)^```", text, re.M | re.S)


def test_linked_from_the_top_of_each() -> None:
    assert "[中文](README.zh-CN.md)" in ENGLISH.split("\n## ")[0]
    assert "[English](README.md)" in CHINESE.split("\n## ")[0]


def test_the_same_two_set_up_commands() -> None:
    english, chinese = _bash_blocks(ENGLISH), _bash_blocks(CHINESE)
    assert english[:2] == chinese[:2]
    assert "pip install . && chainrule train" in chinese[0] and "bash .ci/run" in chinese[1]


def test_a_section_for_every_english_section() -> None:
    """Each '## 中文（English title）' names a section of README.md, in README.md's order
    (a renamed or removed English section fails here); an English section added since the
    Chinese README was written is reported as a warning, so that adding one does not break
    the build, and gets its twin when the Chinese README is next brought up to date."""
    english = re.findall(r"^## (.+)$", ENGLISH, re.M)
    twins = re.findall(r"^## .+（(.+)）$", CHINESE, re.M)
    assert len(twins) == len(re.findall(r"^## ", CHINESE, re.M))  # every section has a twin
    assert [title for title in english if title in twins] == twins  # same order, none stale
    missing = [title for title in english if title not in twins]
    if missing:
        warnings.warn(f"README.zh-CN.md has no section for: {', '.join(missing)}",
                      stacklevel=1)
    assert len(twins) >= 17  # all of them when this was written


def test_the_chinese_snippet_runs() -> None:
    (snippet,) = re.findall(r"^```python\n(.*?)^```", CHINESE, re.M | re.S)
    namespace: dict = {}
    exec(compile(snippet, "README.zh-CN.md", "exec"), namespace)
    assert namespace["x"].grad.tolist() == [[4.5, 4.5], [4.5, 4.5]]
