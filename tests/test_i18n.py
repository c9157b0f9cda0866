"""Message catalogues: English and Chinese have the same keys, placeholders and numbers, and
``chainrule example backprop --lang zh`` prints every number the English version prints."""

import re
import string
from collections import Counter

import pytest

from chainrule import i18n
from chainrule.cli import main
from chainrule.i18n import zh

NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:e-?\d+)?")
TERMS = ("前向传播", "反向传播", "链式法则", "梯度下降", "学习率", "偏置", "误差")


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def test_both_catalogues_have_the_same_keys_fields_and_numbers() -> None:
    english_table, chinese_table = i18n.CATALOGUES["en"], i18n.CATALOGUES["zh"]
    assert set(english_table) == set(chinese_table)
    for key, english in english_table.items():
        chinese = chinese_table[key]
        assert _fields(chinese) == _fields(english), key
        assert Counter(NUMBER.findall(chinese)) == Counter(NUMBER.findall(english)), key
        assert chinese != english, key  # translated, not copied


def _run(capsys, *argv: str) -> str:
    assert main(["example", "backprop", "--quick", *argv]) == 0
    return capsys.readouterr().out


def test_example_backprop_in_chinese_prints_every_english_number(capsys, monkeypatch) -> None:
    monkeypatch.delenv("CHAINRULE_LANG", raising=False)
    english = _run(capsys, "--lang", "en")
    chinese = _run(capsys, "--lang", "zh")
    assert Counter(NUMBER.findall(chinese)) == Counter(NUMBER.findall(english))
    assert "0.291027774" in chinese and "0.082167041" in chinese
    for term in TERMS:
        assert term in chinese and term not in english, term
    assert "FORWARD PASS" in english and "前向传播 (FORWARD PASS)" in chinese
    monkeypatch.setenv("CHAINRULE_LANG", "zh")
    assert _run(capsys) == chinese
    assert _run(capsys, "--lang", "en") == english  # the flag wins over the environment


def test_unknown_language_is_one_line_listing_the_available_ones(capsys, monkeypatch) -> None:
    assert main(["example", "backprop", "--lang", "xx"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    err = captured.err.strip()
    assert len(err.splitlines()) == 1
    assert "--lang 'xx': no such language; available: en (English), zh" in err
    monkeypatch.setenv("CHAINRULE_LANG", "klingon")
    assert main(["example", "convolution"]) == 2
    assert "CHAINRULE_LANG 'klingon': no such language" in capsys.readouterr().err


def test_language_from_flag_environment_or_locale() -> None:
    assert i18n.resolve("zh-CN") == i18n.resolve("ZH") == "zh"
    assert i18n.resolve(None, {"CHAINRULE_LANG": "zh", "LANG": "en_US.UTF-8"}) == "zh"
    assert i18n.resolve(None, {"LC_ALL": "zh_TW.UTF-8", "LANG": "en_US"}) == "zh"
    assert i18n.resolve(None, {"LANG": "C.UTF-8"}) == "en"
    assert i18n.resolve("en", {"CHAINRULE_LANG": "zh"}) == "en"
    with pytest.raises(i18n.UnknownLanguage, match="available: en"):
        i18n.resolve("fr")


def test_a_missing_message_falls_back_to_english_not_to_its_key(monkeypatch) -> None:
    partial = {k: v for k, v in zh.MESSAGES.items() if k != "backprop.error"}
    monkeypatch.setitem(i18n.CATALOGUES, "zh", partial)
    say = i18n.messages("zh")
    assert say("backprop.error") == "ERROR"
    assert say("backprop.forward") == "前向传播 (FORWARD PASS)"


def test_example_error_split_in_chinese_has_the_english_numbers(capsys, monkeypatch) -> None:
    monkeypatch.delenv("CHAINRULE_LANG", raising=False)
    assert main(["example", "error-split", "--lang", "en"]) == 0
    english = capsys.readouterr().out
    assert main(["example", "error-split", "--lang", "zh"]) == 0
    chinese = capsys.readouterr().out
    assert Counter(NUMBER.findall(chinese)) == Counter(NUMBER.findall(english))
    assert "分配给 w11 的 e1 份额 = 0.08 * 0.6 / (0.6 + 0.1 + 0.15 + 0.25) = 0.0436" in chinese
    assert "链式法则" in chinese and "链式法则" not in english


def test_example_convolution_in_chinese_has_the_english_numbers(capsys, monkeypatch) -> None:
    monkeypatch.delenv("CHAINRULE_LANG", raising=False)
    assert main(["example", "convolution", "--lang", "en"]) == 0
    english = capsys.readouterr().out
    assert main(["example", "convolution", "--lang", "zh"]) == 0
    chinese = capsys.readouterr().out
    assert Counter(NUMBER.findall(chinese)) == Counter(NUMBER.findall(english))
    assert "手算与自动求导的每一项都完全相同" in chinese and "卷积核的梯度" in chinese


@pytest.mark.parametrize(("name", "terms"), [
    ("gradient-descent", ("梯度下降", "学习率", "全局最小值")),
    ("vanishing-gradients", ("梯度消失", "初始化", "训练准确率")),
    ("follow-one-digit", ("跟踪一个数字", "激活值", "损失函数")),
    ("convergence", ("收敛速度", "学习率", "初始化")),
    ("linear-collapse", ("没有非线性", "激活函数", "训练准确率")),
    ("saturation", ("饱和", "初始化", "测试准确率")),
    ("dead-relus", ("死亡的 ReLU", "学习率", "测试准确率")),
    ("zigzag", ("之字形", "学习率", "神经元")),
    ("depth", ("实践中越深越好吗", "参数", "测试")),
    ("overfitting", ("过拟合", "测试损失", "准确率")),
    ("seed-spread", ("随机种子", "中位数", "训练准确率")),
    ("networks", ("参数", "权重", "偏置")),
    ("second-derivatives", ("二阶导数", "牛顿法", "梯度下降")),
])
def test_picture_examples_in_chinese_have_the_english_numbers(name, terms, capsys, tmp_path,
                                                               monkeypatch) -> None:
    monkeypatch.delenv("CHAINRULE_LANG", raising=False)
    argv = ["example", name, "--quick", "--out", str(tmp_path)]
    assert main([*argv, "--lang", "en"]) == 0
    english = capsys.readouterr().out.replace(str(tmp_path), "")
    assert main([*argv, "--lang", "zh"]) == 0
    chinese = capsys.readouterr().out.replace(str(tmp_path), "")
    assert Counter(NUMBER.findall(chinese)) == Counter(NUMBER.findall(english))
    for term in terms:
        assert term in chinese and term not in english, term
