"""The playground's engine without a browser: setup checks, data, sessions, frames, explain,
export and --load, and the messages of one tab (chainrule.playground.*)."""

from __future__ import annotations

import json
import math
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn
from chainrule.playground import data
from chainrule.playground.explain_point import explain
from chainrule.playground.frames import build_frame, data_message, decode
from chainrule.playground.live import Live
from chainrule.playground.options import MAX_LAYERS, MAX_NEURONS, SetupError, check_setup
from chainrule.playground.runs import LoadError, cli_config, export_run, load_run
from chainrule.playground.session import Session, build_network

CLI = [sys.executable, "-c", "import sys; from chainrule.cli import main; sys.exit(main())"]
STATIC = Path(__file__).resolve().parents[1] / "src" / "chainrule" / "playground" / "static"


# ---- setup checks: one clear message per bad value ---------------------------------------
BAD_SETUPS = [
    ({"hidden": [4] * (MAX_LAYERS + 1)}, "hidden", "at most 8"),
    ({"hidden": [MAX_NEURONS + 1]}, "hidden", "outside 1 .. 32"),
    ({"hidden": "8,8"}, "hidden", "list of layer widths"),
    ({"lr": float("nan")}, "lr", "outside"),
    ({"lr": "fast"}, "lr", "expected a number"),
    ({"lr": True}, "lr", "expected a number"),
    ({"activation": "swish"}, "activation", "not one of"),
    ({"data": "mnist"}, "data", "not one of"),
    ({"problem": "regression", "data": "plane", "loss": "cross_entropy"}, "loss",
     "regression trains with mse"),
    ({"features": []}, "features", "non-empty"),
    ({"features": ["z"]}, "features", "not one of"),
    ({"points": 10**9}, "points", "outside"),
    ({"seed": 1.5}, "seed", "whole number"),
    ({"wings": 2}, "wings", "unknown option"),
    ({"added": [[0, 0, 7]]}, "added", "outside 0 .. 5"),
    ({"added": [[0, 0]]}, "added", "expected [x, y, label]"),
    ({"added": [[float("inf"), 0, 1]]}, "added", "outside"),
]


@pytest.mark.parametrize("given, key, words", BAD_SETUPS)
def test_bad_setups_are_refused_naming_the_option(given, key, words):
    with pytest.raises(SetupError) as caught:
        check_setup(given)
    assert caught.value.key == key
    assert words in str(caught.value)


def test_setup_defaults_are_complete_and_idempotent():
    setup = check_setup({})
    assert check_setup(setup) == setup
    assert setup["features"] == ["x", "y"] and setup["problem"] == "classification"


# ---- data ----------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["circles", "xor", "gaussians", "spiral", "moons",
                                  "plane", "multigauss"])
def test_every_data_set_is_seeded_and_sized(name):
    problem = "regression" if name in ("plane", "multigauss") else "classification"
    setup = check_setup({"problem": problem, "data": name, "points": 150,
                         "loss": "mse" if problem == "regression" else "cross_entropy"})
    points, labels = data.generate(setup)
    again, labels_again = data.generate(setup)
    assert points.shape == (150, 2) and labels.shape == (150,)
    np.testing.assert_array_equal(points, again)
    np.testing.assert_array_equal(labels, labels_again)
    other, _ = data.generate({**setup, "seed": 1})
    assert not np.array_equal(points, other)


def test_split_is_disjoint_and_covers_every_point():
    train, test = data.split(101, 0.3, seed=4)
    assert len(train) == 30 and len(test) == 71
    assert sorted(np.concatenate([train, test]).tolist()) == list(range(101))


def test_features_match_their_formulas():
    points = np.array([[0.3, -1.2], [2.0, 0.5]])
    names = ["x", "y", "x2", "y2", "xy", "sinx", "siny"]
    x, y = points[:, 0], points[:, 1]
    expected = np.stack([x, y, x * x, y * y, x * y, np.sin(x), np.sin(y)], axis=1)
    np.testing.assert_allclose(data.feature_matrix(points, names), expected)


def test_grid_runs_from_top_left_row_by_row():
    cells = data.grid_points((0.0, 1.0, 0.0, 1.0), size=2)
    np.testing.assert_allclose(cells, [[0.25, 0.75], [0.75, 0.75], [0.25, 0.25], [0.75, 0.25]])


BAD_CSV = [
    ("x,y,label\n", "no data rows"),
    ("1,2\n3,4\n", "has 2 columns"),
    ("1,2,0\n1,b,1\n", "'b' is not a number"),
    ("1,2,0\nnan,1,1\n", "NaN, infinite"),
    ("1,2,0\n1e9,1,1\n", "beyond"),
    ("1,2,0\n1,1,0\n", "same class"),
    ("1,2,0\n1,1,0.5\n", "class numbers 0 to 5"),
    ("1,2,0\n" * 3000, "at most 2,000"),
    ("1,2,0\n" + "9" * (300 * 1024), "bytes, at most"),
]


@pytest.mark.parametrize("text, words", BAD_CSV)
def test_bad_csv_files_are_refused_with_the_reason(text, words):
    with pytest.raises(SetupError) as caught:
        data.parse_csv(text, "classification")
    assert words in str(caught.value)


def test_csv_with_header_reads_points_and_labels():
    points, labels = data.parse_csv("x,y,label\n0.5,1,0\n-1,2,1\n", "classification")
    np.testing.assert_array_equal(points, [[0.5, 1.0], [-1.0, 2.0]])
    np.testing.assert_array_equal(labels, [0, 1])
    _, values = data.parse_csv("0,0,0.25\n1,1,-3.5\n", "regression")
    np.testing.assert_array_equal(values, [0.25, -3.5])


# ---- the network and its training ------------------------------------------------------
@pytest.mark.parametrize("activation, kinds", [
    ("tanh", ["Linear", "Tanh", "Linear", "Tanh", "Linear"]),
    ("linear", ["Linear", "Linear", "Linear"]),
    ("maxout", ["Maxout", "Maxout", "Linear"]),
    ("prelu", ["Linear", "PReLU", "Linear", "PReLU", "Linear"]),
])
def test_network_layers_follow_the_setup(activation, kinds):
    model = build_network(check_setup({"hidden": [3, 4], "activation": activation}), 2, 2)
    assert [type(m).__name__ for m in model] == kinds


def test_session_step_is_the_users_loop():
    """A session's first steps equal the plain loop a user writes with chainrule."""
    setup = {"data": "moons", "hidden": [5], "optimizer": "sgd", "lr": 0.1, "batch_size": 8,
             "seed": 3}
    session = Session(setup)
    cr.manual_seed(3)
    model = build_network(check_setup(setup), 2, 2)
    opt = cr.optim.SGD(model.parameters(), lr=0.1)
    order = np.random.default_rng(5).permutation(session.train_idx)
    for k in range(3):
        batch = order[8 * k:8 * k + 8]
        loss = nn.CrossEntropyLoss()(model(session.inputs[batch]), session.targets[batch])
        opt.zero_grad()
        loss.backward()
        opt.step()
        assert session.step() == pytest.approx(loss.item(), abs=0)
    for mine, theirs in zip(session.model.parameters(), model.parameters(), strict=True):
        np.testing.assert_array_equal(mine.detach().numpy(), theirs.detach().numpy())


@pytest.mark.parametrize("kind, rate", [("l1", 0.01), ("l2", 0.05)])
def test_regularization_penalty_is_the_weights_term(kind, rate):
    session = Session({"hidden": [3], "regularization": kind, "reg_rate": rate})
    weights = [m.weight.detach().numpy() for m in session.model if isinstance(m, nn.Linear)]
    expected = (rate * sum(np.abs(w).sum() for w in weights) if kind == "l1"
                else rate / 2 * sum((w ** 2).sum() for w in weights))
    assert float(session.penalty().item()) == pytest.approx(expected, rel=1e-6)


def test_divergence_pauses_and_says_why():
    session = Session({"problem": "regression", "data": "multigauss", "loss": "mse",
                       "hidden": [8, 8], "activation": "relu", "optimizer": "sgd", "lr": 10.0})
    session.playing = True
    weights = None
    for _ in range(500):
        weights = [p.detach().numpy().copy() for p in session.model.parameters()]
        if not math.isfinite(session.step()):
            break
    assert not session.playing
    assert "the loss became inf" in session.stopped_because
    assert "learning rate 10" in session.stopped_because
    for p, kept in zip(session.model.parameters(), weights, strict=True):  # not updated
        np.testing.assert_array_equal(p.detach().numpy(), kept)


def test_changing_only_the_learning_rate_keeps_training_state():
    session = Session({"data": "xor", "hidden": [4]})
    for _ in range(20):
        session.step()
    weights = session.model[0].weight.detach().numpy().copy()
    changed = session.set_setup({**session.setup, "lr": 0.1})
    assert changed == ["lr"] and session.steps == 20
    np.testing.assert_array_equal(session.model[0].weight.detach().numpy(), weights)
    assert session.optimizer.param_groups[0]["lr"] == 0.1
    session.set_setup({**session.setup, "hidden": [5]})
    assert session.steps == 0 and session.model[0].out_features == 5


def test_dropout_sessions_do_not_disturb_each_other():
    """Two sessions with dropout, stepped interleaved, train as each would alone."""
    setup = {"data": "circles", "hidden": [6], "dropout": 0.3, "seed": 2}
    alone = Session(setup)
    alone_losses = [alone.step() for _ in range(6)]
    a, b = Session(setup), Session({**setup, "seed": 9})
    mixed = []
    for _ in range(6):
        mixed.append(a.step())
        b.step()
        cr.manual_seed(123)  # someone else drawing from the default generator
        cr.rand(5)
    assert mixed == alone_losses


# ---- frames ----------------------------------------------------------------------------
def test_frame_boundary_is_the_models_prediction_on_the_grid():
    session = Session({"data": "xor", "hidden": [3]})
    frame = build_frame(session)
    cells = data.grid_points(session.box)
    features = cr.tensor(data.feature_matrix(cells, ["x", "y"]).astype(np.float32))
    with cr.no_grad():
        probs = nn.functional.softmax(session.model(features), dim=1).numpy()[:, 1]
    got = decode(frame["boundary"]["data"]) / 255.0
    assert np.abs(got - probs).max() <= 0.5 / 255 + 1e-6
    assert json.loads(json.dumps(frame, allow_nan=False))["type"] == "frame"


def test_frame_tiles_are_each_hidden_neurons_output():
    session = Session({"data": "circles", "hidden": [3, 2], "activation": "sigmoid"})
    frame = build_frame(session)
    layer = frame["layers"][1]
    assert layer["neurons"] == 2
    cells = data.grid_points(session.box)[::1]
    with cr.no_grad():
        hidden = session.model[:4](cr.tensor(cells.astype(np.float32))).numpy()
    picture = hidden[:, 1].reshape(data.GRID, data.GRID)[::2, ::2].ravel()
    tiles = decode(layer["data"]).reshape(2, -1).astype(float)
    restored = tiles[1] / 255 * 2 * layer["scale"] - layer["scale"]
    assert np.abs(restored - picture).max() <= layer["scale"] / 255 + 1e-6


def test_frame_of_many_classes_and_of_regression():
    three = build_frame(Session({"data": "spiral", "classes": 3, "hidden": [4]}))
    assert three["boundary"]["kind"] == "classes"
    assert set(decode(three["boundary"]["data"]).tolist()) <= {0, 1, 2}
    flat = build_frame(Session({"problem": "regression", "data": "plane", "loss": "mse"}))
    assert flat["boundary"]["kind"] == "value" and flat["boundary"]["scale"] > 0


def test_gradient_flow_shows_vanishing_gradients_of_a_deep_sigmoid_net():
    session = Session({"data": "spiral", "hidden": [8] * 8, "activation": "sigmoid",
                       "optimizer": "sgd", "lr": 0.1})
    session.step()
    norms = build_frame(session, record=False)["grad_norms"]
    assert len(norms) == 9 and norms[0] < norms[-2] / 100  # the first layer learns slowest


def test_data_message_round_trips_through_json():
    message = data_message(Session({"data": "moons", "added": [[0.1, 0.2, 1]]}))
    again = json.loads(json.dumps(message, allow_nan=False))
    assert again["points"][-1] == [0.1, 0.2] and again["labels"][-1] == 1
    assert sum(again["test"]) + len(again["points"]) * 0 > 0


# ---- explain, export, load --------------------------------------------------------------
def test_explain_reads_the_sessions_own_numbers_and_keeps_its_gradients():
    session = Session({"data": "xor", "hidden": [2], "optimizer": "sgd", "lr": 0.5})
    session.step()
    kept = [p.grad.numpy().copy() for p in session.model.parameters()]
    view = explain(session, 1.0, 1.0)
    index = view["index"]
    with cr.no_grad():
        out = session.model(session.inputs[index:index + 1]).numpy()[0]
    printed = [line for line in view["lines"] if line.startswith("net_class1 =")][0]
    assert float(printed.rsplit("=", 1)[1]) == pytest.approx(float(out[1]), abs=1e-8)
    assert any(line.startswith("UPDATE") for line in view["lines"])
    for p, grad in zip(session.model.parameters(), kept, strict=True):
        np.testing.assert_array_equal(p.grad.numpy(), grad)


def test_explain_in_chinese_prints_the_same_numbers():
    session = Session({"data": "moons", "hidden": [3], "optimizer": "sgd"})
    english, chinese = explain(session, 0.5, 0.5), explain(session, 0.5, 0.5, lang="zh")
    assert chinese["lines"][0].startswith("前向传播")
    numbers = [re.findall(r"-?\d+\.\d+", "\n".join(view["lines"]))
               for view in (english, chinese)]
    assert numbers[0] == numbers[1] and len(numbers[0]) > 50
    with pytest.raises(SetupError, match="not one of en, zh"):
        explain(session, 0.5, 0.5, lang="fr")


def test_explain_refuses_maxout_with_a_reason():
    with pytest.raises(SetupError, match="Maxout"):
        explain(Session({"activation": "maxout", "hidden": [2]}), 0.0, 0.0)


def test_export_is_a_cli_run_and_loads_back(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    session = Session({"data": "moons", "hidden": [6], "seed": 4})
    for _ in range(30):
        session.step()
    folder = export_run(session, parent=str(tmp_path / "runs"))
    assert re.fullmatch(r".*/runs/playground-\d{8}-\d{6}", folder)
    again = load_run(folder)
    assert again.setup == session.setup and again.steps == 30
    for mine, theirs in zip(session.model.parameters(), again.model.parameters(), strict=True):
        np.testing.assert_array_equal(mine.detach().numpy(), theirs.detach().numpy())
    result = subprocess.run([*CLI, "eval", folder],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "moons test set: accuracy" in result.stdout


def test_eval_of_an_export_the_cli_cannot_train_says_where_to_open_it(tmp_path):
    session = Session({"problem": "regression", "data": "plane", "loss": "mse",
                       "hidden": [3]})
    folder = export_run(session, parent=str(tmp_path))
    result = subprocess.run([*CLI, "eval", folder], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "chainrule playground --load" in result.stderr
    assert load_run(folder).setup == session.setup


def test_load_opens_a_cli_trained_toy_run(tmp_path):
    run = tmp_path / "run"
    result = subprocess.run([*CLI, "train", "--dataset", "spiral",
                             "--hidden", "6", "--activation", "tanh", "--epochs", "1",
                             "--out", str(run)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    session = load_run(str(run))
    assert session.setup["hidden"] == [6] and session.classes == 3
    assert session.setup["activation"] == "tanh"
    from chainrule.train.checkpoint import read_checkpoint

    arrays, _ = read_checkpoint(str(run / "checkpoint.safetensors"))
    np.testing.assert_array_equal(session.model[0].weight.detach().numpy(),
                                  arrays["model/0.weight"])


def test_load_refuses_an_mnist_run(tmp_path):
    result = subprocess.run([*CLI, "train", "--hidden", "4",
                             "--epochs", "1", "--dataset", "mini-mnist", "--out",
                             str(tmp_path / "r")], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    with pytest.raises(LoadError, match="the playground opens 2-D runs"):
        load_run(str(tmp_path / "r"))
    cli = subprocess.run([*CLI, "playground", "--no-browser",
                          "--load", str(tmp_path / "r")], capture_output=True, text=True,
                         timeout=60)
    assert cli.returncode == 2 and "Traceback" not in cli.stderr
    assert "2-D runs" in cli.stderr


def test_cli_config_only_for_what_the_cli_can_train():
    assert cli_config(check_setup({"data": "spiral"}))["dataset"] == "spiral"
    for other in ({"activation": "linear"}, {"features": ["x", "y", "xy"]},
                  {"problem": "regression", "data": "plane", "loss": "mse"}):
        assert cli_config(check_setup(other)) is None


# ---- one tab's messages -------------------------------------------------------------------
def _live(setup=None):
    live = Live(None)
    live.handle({"type": "hello", "setup": setup})
    live.take_messages()
    live.take_frame()
    return live


HOSTILE = [
    ("a list", [1, 2], "unknown message type"),
    ("no type", {"x": 1}, "unknown message type"),
    ("bad setup", {"type": "setup", "setup": {"hidden": [99]}}, "hidden"),
    ("setup not a dict", {"type": "setup", "setup": 5}, "expected an object"),
    ("explain NaN", {"type": "explain", "x": float("nan"), "y": 0}, "finite"),
    ("explain text", {"type": "explain", "x": "a", "y": 0}, "finite"),
    ("point class", {"type": "add_point", "x": 0, "y": 0, "label": 4}, "class"),
    ("point NaN", {"type": "add_point", "x": float("nan"), "y": 0, "label": 0}, "outside"),
    ("csv columns", {"type": "csv", "text": "1,2,3,4\n"}, "4 columns"),
    ("csv not text", {"type": "csv", "text": 12}, "expected the file's text"),
]


@pytest.mark.parametrize("name, message, words", HOSTILE, ids=[h[0] for h in HOSTILE])
def test_hostile_messages_get_one_error_and_the_session_goes_on(name, message, words):
    live = _live({"data": "xor", "hidden": [3]})
    before = live.session.setup
    live.handle(message)
    errors = [m for m in live.take_messages() if m["type"] == "error"]
    assert len(errors) == 1 and words in errors[0]["text"]
    assert live.session.setup == before
    live.handle({"type": "step"})
    assert live.take_frame()["step"] == 1
    live.stop()


def test_play_trains_in_the_background_and_pause_stops_it():
    live = _live({"data": "xor", "hidden": [4]})
    live.handle({"type": "play"})
    import time

    deadline = time.monotonic() + 20
    while live.session.steps < 50 and time.monotonic() < deadline:
        time.sleep(0.05)
    live.handle({"type": "pause"})
    steps = live.session.steps
    assert steps >= 50
    time.sleep(0.3)
    assert live.session.steps == steps
    live.stop()


def test_add_point_keeps_the_network_and_csv_replaces_the_data():
    live = _live({"data": "circles", "hidden": [3]})
    live.handle({"type": "step"})
    live.handle({"type": "add_point", "x": 0.2, "y": -0.3, "label": 1})
    assert live.session.steps == 1 and live.session.setup["added"] == [[0.2, -0.3, 1.0]]
    assert live.take_messages()[-1]["type"] == "data"
    live.handle({"type": "csv", "text": "x,y,label\n0,0,0\n1,1,1\n0,1,0\n1,0,1\n"})
    assert live.session.setup["data"] == "csv" and len(live.session.points) == 4
    live.stop()


def test_catalogues_have_the_same_keys():
    """The page's English and Chinese tables name the same messages."""
    text = (STATIC / "i18n.js").read_text(encoding="utf-8")
    tables = re.findall(r"^  (en|zh): \{(.*?)^  \},", text, flags=re.S | re.M)
    keys = {name: set(re.findall(r"(\w+): \"", body)) for name, body in tables}
    assert keys["en"] == keys["zh"] and len(keys["en"]) > 60
    html = (STATIC / "index.html").read_text(encoding="utf-8")
    assert set(re.findall(r'data-i18n(?:-title)?="(\w+)"', html)) <= keys["en"]


def test_page_has_no_outside_references():
    """Works offline: no CDN, no remote fonts or scripts."""
    for path in STATIC.iterdir():
        assert "http://" not in path.read_text(encoding="utf-8").replace(
            "http://www.w3.org/2000/svg", ""), path.name
        assert "https://" not in path.read_text(encoding="utf-8"), path.name


def test_cli_lists_the_command():
    result = subprocess.run([*CLI, "playground", "--help"], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0 and "--no-browser" in result.stdout
