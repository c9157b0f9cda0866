"""Titles, axis labels and legends of chainrule.viz's figures (chainrule plot, draw_*).

Chinese; see :mod:`chainrule.i18n` (the keys match the other language's part).
"""

MESSAGES: dict[str, str] = {
    # shared: a class, a data set's name
    "viz.class": "类别 {label}",
    "viz.set.train": "训练集",
    "viz.set.val": "验证集",
    "viz.set.test": "测试集",
    # training.py: curves, compare, confusion matrix, misclassified
    "viz.curves.loss_title": "每轮的损失",
    "viz.curves.accuracy_title": "每轮的准确率",
    "viz.curves.epoch": "轮",
    "viz.curves.loss_label": "损失（样本平均）",
    "viz.curves.accuracy_label": "准确率 (%)",
    "viz.compare.line_style": "线型",
    "viz.compare.runs": "训练（不同的设置）",
    "viz.compare.title": "{count} 次训练对比：每轮的损失和准确率",
    "viz.confusion.samples": "样本数",
    "viz.confusion.predicted": "预测类别",
    "viz.confusion.true": "真实类别",
    "viz.confusion.title": "混淆矩阵\n准确率 {accuracy}（共 {count} 个样本）",
    "viz.misclassified.tile": "预测 {predicted}，真实 {true}",
    "viz.misclassified.none": "没有分错的样本",
    "viz.misclassified.title": "分错的图像：{total} 张中的 {wrong} 张{shown}",
    "viz.misclassified.first": "（显示前 {count} 张）",
    # weights.py: first-layer weights, activation histograms and their captions
    "viz.weights.value": "权重值",
    "viz.weights.outputs": "每个输出（类别）在找什么",
    "viz.weights.hidden": "每个隐藏单元在找什么",
    "viz.weights.title": "第一层的权重，每个单元一张 {height}x{width} 的图：{what}",
    "viz.saturation.sigmoid": "{share} 饱和（< 0.01 或 > 0.99）",
    "viz.saturation.tanh": "{share} 饱和（|out| > 0.99）",
    "viz.saturation.relu_units": "{share} 恰为 0；死亡单元：{count} 个中的 {dead} 个",
    "viz.saturation.relu_channels": "{share} 恰为 0；死亡通道：{count} 个中的 {dead} 个",
    "viz.saturation.leaky": "{share} 为负（{where}）",
    "viz.saturation.slope": "斜率 {slope}",
    "viz.saturation.small_slope": "小斜率一侧",
    "viz.saturation.elu": "{share} 饱和（< -0.99）",
    "viz.histograms.layer": "层 {name}（{kind}）",
    "viz.histograms.value": "输出值",
    "viz.histograms.count": "个数（样本 x 单元）",
    "viz.histograms.title": "每层的激活值，{count} 个样本",
    # gradients.py: activation functions, gradient flow
    "viz.activations.leaky": "leaky_relu（斜率 {slope}，同 nn.LeakyReLU）",
    "viz.activations.max_slope": "sigmoid' 的最大值 = 0.25",
    "viz.activations.function": "激活函数 f(x)",
    "viz.activations.derivative": "导数 f'(x)（由自动求导算出）",
    "viz.activations.x": "x（净输入）",
    "viz.activations.title": "激活函数及其斜率",
    "viz.flow.layer": "层（1 = 紧挨输入的一层）",
    "viz.flow.mean": "平均 |dE/dW|",
    "viz.flow.per_layer": "到达每一层的梯度",
    "viz.flow.step": "训练步",
    "viz.flow.over_training": "训练过程中第一层和最后一层的梯度",
    "viz.flow.run_layer": "{label}，第 {layer} 层",
    # boundary.py: decision boundaries, first-layer units over the plane
    "viz.boundary.default": "决策边界",
    "viz.boundary.true_class": "真实类别（圆点）",
    "viz.boundary.title": "{title}（准确率 {accuracy}）\n底色：预测类别",
    "viz.boundary.x1": "x1（第一个输入）",
    "viz.boundary.x2": "x2（第二个输入）",
    "viz.neurons.activation": "激活值",
    "viz.neurons.net": "净输入",
    "viz.neurons.title": "第一层每个单元在输入平面上算出什么。颜色：它的{what}（红高蓝低）；"
                         "黑线：净输入 = 0；圆点：数据",
    # conv.py and run.py: filters and feature maps
    "viz.conv.filter": "卷积核 {number}",
    "viz.conv.channels": "，{count} 个输入通道的平均",
    "viz.conv.title": "第一个卷积层：{count} 个 {height}x{width} 的卷积核{channels}",
    "viz.maps.input": "输入",
    "viz.maps.title": "一张图像逐层的特征图（每个通道一张）",
    "viz.maps.test_image": "测试集第 0 张图像（{label}，预测为 {predicted}）逐层的特征图",
    # augment.py
    "viz.augment.original": "原图",
    "viz.augment.version": "版本 {number}",
    "viz.augment.shift": "平移至多 {pixels} 像素",
    "viz.augment.rotate": "旋转至多 {degrees} 度",
    "viz.augment.elastic": "弹性形变（sigma {sigma}，alpha {alpha}）",
    "viz.augment.separator": "；",
    "viz.augment.title": "--augment {kinds}：{described}\n每个训练批次都重新变形；验证集和测试集的"
                         "图像从不变形",
    # pictures.py
    "viz.templates.title": "第一层的权重画成彩色图像（{count} 个单元中的 {shown} 个；每张从它最小的"
                           "权重（黑）缩放到最大的权重）",
    # graph_draw.py
    "viz.graph.scalar": "一个标量",
    "viz.graph.tensor": "形状为 {shape} 的张量",
    "viz.graph.title": "{what}的计算图：{count} 个节点，数据自下而上流动",
    # fonts.py: $CHAINRULE_CJK_FONT names no usable font
    "viz.no_cjk_font": "没有找到含中文字符的字体，所以图保持英文（把 $CHAINRULE_CJK_FONT "
                       "设为一个含中文字符的字体文件，或取消这个变量以使用 chainrule 自带的"
                       "字体）",
}
