// The page's words in English and Chinese (the tutorials' terms). Both tables have the
// same keys; tests/test_playground.py checks that. Server messages arrive in English and are
// shown after the translated heading.
"use strict";
const CATALOGUES = {
  en: {
    playground: "playground", reset_title: "Reset the network", play_title: "Run / pause",
    step_title: "One step (one mini-batch)", epoch: "Epoch", steps: "Steps",
    lr: "Learning rate", activation: "Activation", loss: "Loss", optimizer: "Optimizer",
    batch_size: "Batch size", regularization: "Regularization",
    reg_rate: "Regularization rate", dropout: "Dropout", input_noise: "Input noise",
    problem: "Problem type", seed: "Seed", export: "Export", data: "Data",
    which_data: "Which data set do you want to use?",
    ratio: "Ratio of training to test data", noise: "Noise", points: "Points",
    classes: "Classes", regenerate: "Regenerate", csv: "Your own data (CSV: x, y, label)",
    click_mode: "Clicking on the output", hidden_layers: "hidden layers",
    parameters: "parameters", grad_flow: "Gradient flow: ||dLoss/dW|| per layer (log scale)",
    output: "Output", test_loss: "Test loss", train_loss: "Training loss",
    show_test: "Show test data", discretize: "Discretize output",
    explain_title: "One example, forward and backward",
    footer: "Every number on this page is computed by chainrule (NumPy) on this machine; the page only draws.",
    features: "Features", layer: "Layer", neurons: "neurons", output_col: "Output",
    mode_explain: "explains the nearest point", mode_add: "adds a point of class",
    mode_add_value: "adds a point with value", error: "Not done",
    classification: "Classification", regression: "Regression",
    circles: "Circles", xor: "XOR", gaussians: "Gaussians", spiral: "Spiral",
    moons: "Moons", plane: "Plane", multigauss: "Multi-Gaussian", csv_data: "CSV",
    sigmoid: "Sigmoid", tanh: "Tanh", relu: "ReLU", leaky_relu: "Leaky ReLU",
    prelu: "PReLU", elu: "ELU", gelu: "GELU", softplus: "Softplus", maxout: "Maxout",
    linear: "Linear", cross_entropy: "Cross-entropy", mse: "Squared error (MSE)",
    sgd: "SGD", momentum: "Momentum", adam: "Adam", none: "None", l1: "L1", l2: "L2",
    exported: "Exported to", connecting: "Connecting to the chainrule server...",
    lost: "Connection lost: reconnecting...", stopped: "Stopped",
    point: "Point", label: "label", split_train: "training point", split_test: "test point",
    sgd_only: "The update step is shown for plain SGD (choose SGD to see it).",
    choose_file: "Choose a CSV file", test: "test", train: "training",
    loss_top: "top of the scale: {value}",
  },
  zh: {
    playground: "游乐场", reset_title: "重置网络", play_title: "运行 / 暂停",
    step_title: "走一步（一个小批量）", epoch: "轮次", steps: "步数",
    lr: "学习率", activation: "激活函数", loss: "损失函数", optimizer: "优化器",
    batch_size: "批大小", regularization: "正则化", reg_rate: "正则化强度",
    dropout: "Dropout（随机失活）", input_noise: "输入噪声", problem: "问题类型",
    seed: "随机种子", export: "导出", data: "数据",
    which_data: "选择一个数据集：", ratio: "训练数据占比", noise: "噪声", points: "点数",
    classes: "类别数", regenerate: "重新生成", csv: "自己的数据（CSV：x, y, 标签）",
    click_mode: "点击输出图时", hidden_layers: "个隐藏层", parameters: "个参数",
    grad_flow: "梯度流：每层的 ||dLoss/dW||（对数刻度）", output: "输出",
    test_loss: "测试损失", train_loss: "训练损失", show_test: "显示测试数据",
    discretize: "离散化输出", explain_title: "一个样本的前向传播与反向传播",
    footer: "页面上的每个数字都由本机上的 chainrule（NumPy）计算，页面只负责绘图。",
    features: "特征", layer: "第几层", neurons: "个神经元", output_col: "输出",
    mode_explain: "解释最近的点", mode_add: "添加一个点，类别", mode_add_value: "添加一个点，数值",
    error: "未执行", classification: "分类", regression: "回归",
    circles: "圆环", xor: "异或", gaussians: "高斯团", spiral: "螺旋", moons: "双月",
    plane: "平面", multigauss: "多高斯", csv_data: "CSV",
    sigmoid: "Sigmoid", tanh: "Tanh", relu: "ReLU", leaky_relu: "Leaky ReLU",
    prelu: "PReLU", elu: "ELU", gelu: "GELU", softplus: "Softplus", maxout: "Maxout",
    linear: "线性（无激活）", cross_entropy: "交叉熵", mse: "均方误差（MSE）",
    sgd: "随机梯度下降 SGD", momentum: "动量法", adam: "Adam", none: "无", l1: "L1", l2: "L2",
    exported: "已导出到", connecting: "正在连接 chainrule 服务器……",
    lost: "连接断开：正在重连……", stopped: "已停止",
    point: "样本点", label: "标签", split_train: "训练点", split_test: "测试点",
    sgd_only: "更新步骤只对普通 SGD 显示（选择 SGD 即可看到）。",
    choose_file: "选择 CSV 文件", test: "测试", train: "训练",
    loss_top: "纵轴上限：{value}",
  },
};
let LANG = "en";
function t(key, values) {
  const table = CATALOGUES[LANG] || CATALOGUES.en;
  let text = key in table ? table[key] : (CATALOGUES.en[key] !== undefined ? CATALOGUES.en[key] : key);
  for (const name in values || {}) text = text.replace("{" + name + "}", values[name]);
  return text;
}
function applyLanguage() {
  document.documentElement.lang = LANG === "zh" ? "zh-CN" : "en";
  for (const el of document.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of document.querySelectorAll("[data-i18n-title]")) el.title = t(el.dataset.i18nTitle);
  for (const el of document.querySelectorAll("option[data-key]")) el.textContent = t(el.dataset.key);
  document.getElementById("lang-en").classList.toggle("on", LANG === "en");
  document.getElementById("lang-zh").classList.toggle("on", LANG === "zh");
}
