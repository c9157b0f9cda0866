"""chainrule.viz's figures in Chinese: with ``lang="zh"`` every title, axis label, legend and
annotation comes from the Chinese catalogue, is drawn with the CJK font, misses no glyph and
keeps no English words of a figure key; ``chainrule plot`` draws a run's figures and the
comparison of runs in Chinese too.

The glyph check uses the small font chainrule ships (``$CHAINRULE_CJK_FONT`` names it), the
font a machine with no CJK font of its own draws with: every character of the figures must
be in it.
"""

from __future__ import annotations

import io
import json
import re
import string
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn
from chainrule.cli import main
from chainrule.data.dataset import TensorDataset
from chainrule.explain import worked
from chainrule.i18n import CATALOGUES

pytest.importorskip("matplotlib")
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.text import Text  # noqa: E402

from chainrule import viz  # noqa: E402
from chainrule.cli_plot import compare_runs  # noqa: E402
from chainrule.viz import fonts  # noqa: E402
from chainrule.viz.augment import augmented_grid  # noqa: E402
from chainrule.viz.cycle import draw_cycle  # noqa: E402
from chainrule.viz.network import draw_cs231n_nets  # noqa: E402
from chainrule.viz.pictures import colour_templates  # noqa: E402
from chainrule.viz.run import plot_run  # noqa: E402

ENGLISH, CHINESE = CATALOGUES["en"], CATALOGUES["zh"]
# the keys of the words on chainrule.viz's figures (draw_network's and draw_cycle's too)
KEYS = [key for key in ENGLISH if key.startswith(("viz.", "figure.", "cycle."))]
CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")
ROWS = [{"epoch": e, "train_loss": 1 / e, "train_accuracy": 1 - 1 / (e + 1),
         "val_loss": 1.2 / e, "val_accuracy": 1 - 1.2 / (e + 1)} for e in range(1, 4)]


def _pattern(template: str) -> re.Pattern[str]:
    """A regex matching any text the English ``template`` formats to."""
    parts = [re.escape(literal) + ("(.+?)" if field is not None else "")
             for literal, field, _, _ in string.Formatter().parse(template)]
    return re.compile("".join(parts), re.DOTALL)


def _fragments() -> set[str]:
    """The English words of each viz.* key: its template's text between the fields, line by line,
    where it has three letters or more and is not kept as-is in Chinese."""
    found = set()
    for key in KEYS:
        if not key.startswith("viz."):
            continue  # draw_cycle's Chinese titles keep formulas: E = 1/2 (target - out)^2
        chinese = CHINESE[key]
        for literal, _, _, _ in string.Formatter().parse(ENGLISH[key]):
            for line in literal.split("\n"):
                line = line.strip(" :;,()")
                if len(re.findall("[A-Za-z]", line)) >= 3 and line not in chinese:
                    found.add(line)
    return found


PATTERNS = {key: _pattern(ENGLISH[key]) for key in KEYS}
FRAGMENTS = _fragments()


@pytest.fixture
def family(monkeypatch: pytest.MonkeyPatch) -> str:
    """Chinese figures drawn with the font chainrule ships; its family name."""
    if not fonts.BUNDLED.is_file():
        pytest.fail(f"the font chainrule ships is missing: {fonts.BUNDLED}")
    monkeypatch.setenv("CHAINRULE_CJK_FONT", str(fonts.BUNDLED))
    monkeypatch.delenv("CHAINRULE_LANG", raising=False)
    families = fonts.figure_language("zh").families
    assert families is not None
    return families[-1]


def check_chinese(fig: Figure, family: str) -> list[str]:
    """Save ``fig`` as a PNG and check its words: no glyph missing, every text with Chinese
    characters in the CJK family, no text an English template or holding English words of
    one, the title inside the figure. Returns the texts."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fig.savefig(io.BytesIO(), format="png")
    missing = [str(w.message) for w in caught
               if issubclass(w.category, UserWarning) and "missing from font" in str(w.message)]
    assert not missing, missing[:3]
    assert fonts.uses_font(fig, family)
    texts = [t for t in fig.findobj(Text) if t.get_visible() and t.get_text().strip()]
    words = [t.get_text() for t in texts]
    assert any(CJK.search(text) for text in words), words
    for text in texts:
        if CJK.search(text.get_text()):
            assert family in text.get_fontfamily(), text.get_text()
    for said in words:
        english = [key for key, pattern in PATTERNS.items() if pattern.fullmatch(said)]
        assert not english, (said, english)
        left = [f for f in FRAGMENTS
                if re.search(rf"(?<![A-Za-z]){re.escape(f)}(?![A-Za-z])", said)]
        assert not left, (said, left)
    title: Any = getattr(fig, "_suptitle", None)
    if title is not None and title.get_text():
        canvas: Any = fig.canvas
        box = title.get_window_extent(canvas.get_renderer())
        assert fig.bbox.x0 - 1 <= box.x0 and box.x1 <= fig.bbox.x1 + 1, title.get_text()
    return words


def _mlp() -> nn.Module:
    cr.manual_seed(0)
    return nn.Sequential(nn.Linear(784, 6), nn.ReLU(), nn.Linear(6, 10))


def _cnn() -> nn.Module:
    cr.manual_seed(0)
    return nn.Sequential(nn.Unflatten(1, (1, 28)), nn.Conv2d(1, 3, 3), nn.ReLU(),
                         nn.MaxPool2d(2), nn.Flatten(), nn.Linear(3 * 13 * 13, 10))


def _points() -> tuple[nn.Module, Any, Any]:
    X, y = cr.data.make_spiral(90, seed=0)
    cr.manual_seed(0)
    return nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 3)), X, y


def _histograms() -> Figure:
    cr.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 4), nn.LeakyReLU(0.2),
                          nn.Linear(4, 4), nn.Sigmoid(), nn.Linear(4, 4), nn.Tanh(),
                          nn.Linear(4, 4), nn.ELU())
    return viz.activation_histograms(model, cr.rand(20, 3) - 0.5, lang="zh")


def _graph() -> Figure:
    model, X, _ = _points()
    loss = model(X[:4]).pow(2).mean()
    record = viz.watch_grads(loss)
    loss.backward()
    return viz.draw_graph(loss, params=model, show_grads=record, lang="zh")


IMAGES = np.random.default_rng(0).random((8, 28, 28)).astype(np.float32)
TRUE = np.arange(8) % 3
FIGURES: dict[str, Callable[[], Figure]] = {
    "training_curves": lambda: viz.training_curves(ROWS, lang="zh"),
    "compare_curves": lambda: viz.compare_curves([("a (loss=mse)", ROWS), ("b", ROWS[:2])],
                                                 lang="zh"),
    "confusion_matrix": lambda: viz.confusion_matrix(np.eye(3) * 5 + 1, lang="zh"),
    "misclassified": lambda: viz.misclassified(IMAGES, TRUE, TRUE * 0, max_images=3,
                                               lang="zh"),
    "misclassified_none": lambda: viz.misclassified(IMAGES, TRUE, TRUE, lang="zh"),
    "first_layer_weights": lambda: viz.first_layer_weights(_mlp(), lang="zh"),
    "first_layer_weights_classes": lambda: viz.first_layer_weights(
        nn.Sequential(nn.Flatten(), nn.Linear(784, 4)), lang="zh"),
    "activation_histograms": _histograms,
    "activation_functions": lambda: viz.activation_functions(lang="zh"),
    "gradient_flow": lambda: viz.gradient_flow({"sigmoid": np.full((5, 3), 1e-3),
                                                "relu": np.ones((5, 3))}, lang="zh"),
    "decision_boundary": lambda: viz.decision_boundary(*_points(), resolution=20, lang="zh"),
    "neuron_boundaries": lambda: viz.neuron_boundaries(*_points(), resolution=20, lang="zh"),
    "neuron_boundaries_classes": lambda: viz.neuron_boundaries(
        nn.Sequential(nn.Linear(2, 3)), *_points()[1:], resolution=20, lang="zh"),
    "conv_filters": lambda: viz.conv_filters(nn.Conv2d(2, 3, 3), lang="zh"),
    "feature_map_grid": lambda: viz.feature_map_grid(_cnn(), IMAGES[0], lang="zh"),
    "augmented_grid": lambda: augmented_grid(IMAGES[:2], ["shift", "rotate", "elastic"],
                                             versions=2, labels=[1, 2], lang="zh"),
    "colour_templates": lambda: colour_templates(nn.Linear(3072, 4), lang="zh"),
    "draw_graph": _graph,
    "draw_network": lambda: viz.draw_network(worked.build(), *worked.data(), lang="zh"),
    "draw_cs231n_nets": lambda: draw_cs231n_nets(lang="zh"),
    "draw_cycle": lambda: draw_cycle(worked.build(), *worked.data(), lang="zh"),
}


@pytest.mark.parametrize("name", FIGURES)
def test_each_figure_speaks_chinese(name: str, family: str) -> None:
    check_chinese(FIGURES[name](), family)


def test_the_same_figure_in_english_keeps_its_words(family: str) -> None:
    """lang="en" still gives the English figure (the texts existing tests read)."""
    fig = viz.training_curves(ROWS, lang="en")
    assert [ax.get_title() for ax in fig.axes] == ["loss per epoch", "accuracy per epoch"]
    chinese = check_chinese(viz.training_curves(ROWS, lang="zh"), family)
    for key in ("viz.curves.loss_title", "viz.curves.epoch", "viz.set.val"):
        assert CHINESE[key] in chinese, key


def _saved_figures(monkeypatch: pytest.MonkeyPatch) -> list[Figure]:
    """Every figure saved from now on (``Figure.savefig`` is wrapped)."""
    figures: list[Figure] = []
    savefig = Figure.savefig

    def keep(fig: Figure, *args: Any, **kwargs: Any) -> Any:
        figures.append(fig)
        return savefig(fig, *args, **kwargs)

    monkeypatch.setattr(Figure, "savefig", keep)
    return figures


def _run_folder(folder: Path) -> Path:
    folder.mkdir()
    (folder / "metrics.jsonl").write_text("".join(json.dumps(row) + "\n" for row in ROWS))
    return folder


@pytest.mark.parametrize(("model", "features", "augment"), [
    (_mlp, 784, None), (_cnn, 784, ["shift"]), (lambda: _points()[0], 2, None)])
def test_plot_run_writes_every_figure_in_chinese(model, features, augment, tmp_path,
                                                 monkeypatch, family) -> None:
    folder = _run_folder(tmp_path / "run")
    if features == 2:
        _, X, y = _points()
        test_set = TensorDataset(np.asarray(X, np.float32), np.asarray(y, np.int64))
    else:  # the MLP takes flat images, the conv net 28x28 ones
        images = IMAGES if augment else IMAGES.reshape(8, -1)
        test_set = TensorDataset(images, TRUE.astype(np.int64))
    figures = _saved_figures(monkeypatch)
    written = plot_run(str(folder), model(), test_set, features, 10, augment, lang="zh")
    saved = list(figures)  # the checks below save each figure again
    assert len(saved) == len(written) >= 4
    for path, fig in zip(written, saved, strict=True):
        assert Path(path).is_file()
        check_chinese(fig, family)


def test_chainrule_plot_in_chinese_from_the_environment(tmp_path, monkeypatch, capsys,
                                                        family) -> None:
    """A run trained as the CLI tests train one; ``CHAINRULE_LANG=zh chainrule plot RUN``
    and the comparison of two runs draw Chinese figures."""
    train = ["train", "--dataset", "xor", "--hidden", "4", "--epochs", "2"]
    runs = [tmp_path / "mse", tmp_path / "ce"]
    for run, loss in zip(runs, ("mse", "cross_entropy"), strict=True):
        assert main([*train, "--loss", loss, "--out", str(run)]) == 0
    capsys.readouterr()
    figures = _saved_figures(monkeypatch)
    monkeypatch.setenv("CHAINRULE_LANG", "zh")
    assert main(["plot", str(runs[0])]) == 0
    saved = list(figures)  # the checks below save each figure again
    assert len(saved) >= 4 and (runs[0] / "curves.png").is_file()
    for fig in saved:
        check_chinese(fig, family)
    monkeypatch.delenv("CHAINRULE_LANG")
    figures.clear()
    compare_runs([str(run) for run in runs], str(tmp_path / "both.png"), lang="zh")
    [fig] = list(figures)
    texts = check_chinese(fig, family)
    assert "mse (loss=mse)" in texts and CHINESE["viz.compare.runs"] in texts
