"""中文消息 (Chinese messages), with the tutorials' terms: 前向传播 (forward pass), 反向传播
(backpropagation), 链式法则 (chain rule), 梯度下降 (gradient descent), 学习率 (learning rate),
误差 (error), 偏置 (bias), 权重 (weight), 净输入 (net input), 激活函数 (activation function).

Each message keeps the English key, placeholders and numbers; the formulas printed around
them (net_h1 = w1 * i1 + ...) are the same in both languages. A key missing here falls
back to English.
"""

MESSAGES: dict[str, str] = {
    "backprop.forward": "前向传播 (FORWARD PASS)",
    "backprop.digit_names": "（每个输出以它所打分的类别命名：out_7 是数字 7 的输出）",
    "backprop.error": "误差 (ERROR)",
    "backprop.backward": "反向传播（链式法则，从输出层开始）(BACKWARD PASS)",
    "backprop.update": "更新（梯度下降，学习率 lr = {lr}）：w+ = w - lr * dE/dw",
    "worked.intro": "反向传播的 2-2-2 算例：输入 (0.05, 0.10)，目标 (0.01, 0.99)，激活函数为 "
                    "sigmoid，误差 E = sum 1/2 (target - out)^2，学习率 0.5；偏置不参与训练。",
    "worked.after_one": "一步之后：E_total = {error}（原为 0.298371109）。",
    "worked.reproduces": "完全复现了这个数",
    "worked.gives": "得到 {error}",
    "worked.tutorial_prints": "教程在这里给出的是 {printed}；运行它的做法"
                              "（examples/worked_example.py --as-published）{variant}。"
                              "教程公布的数字在同一步里用已经更新过的输出层权重去反向传播"
                              "隐藏层的误差；正确的反向传播应使用前向传播时的权重，"
                              "所以数字略有不同。",
    "biases.title": "偏置（教程中 b1 = 0.35 和 b2 = 0.6 保持不变；下面看看训练它们会怎样）",
    "biases.factor": "偏置以系数 1 进入净输入 net = w * in + b，所以 dE/db = dE/dnet = delta"
                     "（该神经元的误差项）。",
    "biases.shared": "共享的 {shared} 同时输入 {first} 和 {second}",
    "biases.shared_mark": "（共享）",
    "biases.update": "偏置更新（学习率 lr = {lr}）：b+ = b - lr * dE/db",
    "biases.compare": "训练偏置带来的变化（E_total，第一步之前为 0.298371109）",
    "biases.after_1": "1 步之后",
    "biases.after": "{steps} 步之后",
    "biases.variant.fixed": "偏置固定（教程的做法）",
    "biases.variant.per_neuron": "每个神经元的偏置都训练 (nn.Linear)",
    "biases.variant.shared": "b1 和 b2 作为共享偏置训练（教程的图）",
    "biases.less": "把每个偏置也一起训练，{steps} 步之后误差小 {gain}x：偏置让 sigmoid "
                   "左右平移，多了一种把输出推向目标的办法。",
    "biases.more": "把每个偏置也一起训练，{steps} 步之后误差在这里反而大 {gain}x。",
    "figure.input": "输入层",
    "figure.hidden": "隐藏层 {depth}",
    "figure.output": "输出层",
    "figure.neurons": "{count} 个神经元",
    "figure.softmax": "（按 softmax 着色）",
    "figure.input_image": "输入图像",
    "figure.legend": "线越粗 = |w| 越大（逐层缩放）",
    "figure.positive": "正权重",
    "figure.negative": "负权重",
    "figure.target": "目标 {value}",
    "figure.title": "{shape} 网络：{total} 个参数（{weights} 个权重 + {biases} 个偏置）",
    "figure.worked_title": "2-2-2 算例：权重、净输入、输出、误差项 delta 和误差（偏置固定）",
    "cycle.forward": "1 前向传播：net = sum of w * in + b，out = 激活函数(net)",
    "cycle.loss": "2 损失函数：E = sum of 1/2 (target - out)^2 = {error}",
    "cycle.loss_custom": "2 损失函数：E = {error}",
    "cycle.backward": "3 反向传播：delta = dE/dnet（链式法则，从输出层开始），dE/dw = delta * in",
    "cycle.update": "4 更新（梯度下降）：w+ = w - {lr} * dE/dw；E {before} \u2192 {after}",
    "cycle.title": "一个训练步：前向传播 \u2192 损失函数 \u2192 反向传播 \u2192 更新（从左上角"
                   "顺时针），然后用新权重再做一次前向传播\n"
                   "线：蓝色为正权重，红色为负权重，越粗 |w| 越大",
    "cycle.done": "2-2-2 算例的一个训练步：前向传播 -> 损失函数 -> 反向传播 -> 更新；用更新后的"
                  "权重，E_total 0.298371109 -> {error}。",
    "split.title": "按权重比例分配输出误差",
    "split.errors": "输出误差：{errors}",
    "split.weights_into": "进入 {output} 的权重：{terms}",
    "split.share_w11": "分配给 w11 的 e1 份额 = {formula}",
    "split.tutorial": "  （教程在这里给出 {published}；{product} / {total} 等于 {share}）",
    "split.shares": "{error} 的份额：{shares}",
    "split.hidden": "隐藏层误差（按比例分配后再合并）：{errors}",
    "split.plain": "去掉归一化：隐藏层误差 = W_ho^T . e（代码里的写法：who.T @ e）",
    "split.true": "真正的梯度（链式法则）：同样的权重，sigmoid 输出，目标 t = o + e",
    "split.outputs": "输出 o = {outputs}；E_total = {error}",
    "split.gradient": "dE/dout_h = W^T (delta)，delta = -(t - o) * o (1 - o)：{gradients}",
    "split.moral": "这种直觉方法指的方向相同（差一个负号：误差是 t - o），但真正的梯度还要乘以每个"
                   "输出的斜率 o (1 - o) <= 1/4，而且不做归一化。",
    "conv.title": "3x3 卷积核在 5x5 图像上滑动（步长 1，不填充：输出为 3x3）",
    "conv.image": "图像 x：",
    "conv.kernel": "卷积核 k：",
    "conv.rule": "y[i, j] = sum over a, b of x[i+a, j+b] * k[a, b]：把卷积核放在左上角为 "
                 "(i, j) 的窗口上，逐格相乘再求和。这个卷积核用窗口左列减去右列：图像向右变暗"
                 "的地方为正。（深度学习库计算的是互相关，却叫它卷积：卷积核不翻转。）",
    "conv.output": "输出 y = conv2d(x, k)：",
    "conv.loss": "损失函数 L = 1/2 * sum (y - t)^2，目标是全零图（t = 0）：L = {loss}，"
                 "dL/dy = y - t：",
    "conv.kernel_gradient": "卷积核的梯度。k[a, b] 在每个输出 y[i, j] 里都乘以 x[i+a, j+b]，"
                            "所以 dL/dk[a, b] = sum over i, j of x[i+a, j+b] * dL/dy[i, j]："
                            "图像与输出梯度的互相关（把 3x3 的 dL/dy 在 5x5 图像上滑动）。",
    "conv.by_hand": "手算：",
    "conv.autograd": "自动求导 ({grad})：",
    "conv.input_gradient": "输入的梯度。x[p, q] 被覆盖它的每个窗口读到，所以 dL/dx 是四周各补 "
                           "2 圈零的 dL/dy 与旋转 180 度的卷积核的互相关（即 'full' 卷积）。",
    "conv.agree": "手算与自动求导的每一项都完全相同，一位不差",
    "conv.differ": "手算与自动求导不同：最大差距 {kernel}（卷积核），{input}（输入）",
    "descent.title": "梯度下降（最多 {steps} 步；梯度由 backward() 算出）",
    "descent.surface_1d": "1-D（一维）f(x) = x^4 - 3x^2 + x：全局最小值在 x = -1.3008，局部最小值"
                          "在 x = 1.1309",
    "descent.surface_2d": "2-D（二维）f(x, y) = (x^2 - 1)^2 / 2 + 0.3x + 5y^2：全局最小值在 "
                          "(-1.0679, 0)，局部最小值在 (0.9143, 0)",
    "descent.from": "从 ({start}) 出发，学习率 {lr}",
    "descent.diverged": "发散：{steps} 步后 |p| > 1000",
    "descent.none": "{steps} 步内没有到达最小值：{how}，位于 ({end})，f = {loss}",
    "descent.bounces": "在谷底两侧来回跳",
    "descent.moving": "仍在移动",
    "descent.reached": "{steps} 步后到达{which}最小值，位于 ({end})，f = {loss}",
    "descent.global": "全局",
    "descent.local": "局部",
    "descent.moral": "路径停在哪个最小值，取决于它从驼峰的哪一侧出发；学习率太小就爬得很慢，太大就"
                     "在山谷陡峭的 y 方向上来回跳（之字形），超过 2 / 曲率（这里 y 方向是 0.2）"
                     "就会发散。",
    "vanish.title": "梯度消失（宽度 {width}，3 类螺旋数据，PyTorch 的默认初始化（relu+He："
                    "He 初始化），种子 0）",
    "vanish.ratio": "第一层的 ||dL/dW|| 除以最后一层的，初始化时：",
    "vanish.depth": "深度",
    "vanish.per_layer": "{depth} 层的网络，每层的 ||dL/dW||（1 = 第一层），初始化时和 {steps} 步 "
                        "SGD（学习率 lr 0.1，全批量）之后：",
    "vanish.init": "初始化  第一层 {first}，最后一层 {last}：第一层/最后一层 {ratio}",
    "vanish.trained": "训练后  第一层 {first}，最后一层 {last}：第一层/最后一层 {ratio}；"
                      "训练准确率 {accuracy}",
    "vanish.worst": "深度为 {depth} 时，{name} 网络第一层得到的梯度只有最后一层的 {ratio}："
                    "它的权重几乎不动，靠近输入的层最后才学到东西。",
    "vanish.he": "用 He 初始化的 ReLU 在深度 {depth} 时还保留 {he}；用 PyTorch 的默认初始化"
                 "（方差 1/(3 fan_in)，而不是 2/fan_in）时 ReLU 只保留 {relu}。",
    "digit.title": "跟踪一个数字：mini-MNIST 的第 {index} 张训练图像，是一个 {label}",
    "digit.trained_1": "784-16-16-10 sigmoid 网络，在 {images} 张图像上训练了 1 个 epoch（SGD "
                       "学习率 lr 1.0，批大小 32，种子 0）：测试准确率 {accuracy}",
    "digit.trained": "784-16-16-10 sigmoid 网络，在 {images} 张图像上训练了 {count} 个 epoch"
                     "（SGD 学习率 lr 1.0，批大小 32，种子 0）：测试准确率 {accuracy}",
    "digit.activations": "隐藏层 {depth} 的激活值：{values}",
    "digit.lit": "  被点亮（> 0.5）：{total} 个中有 {count} 个（神经元 {which}）",
    "digit.none": "无",
    "digit.output": "输出（10 个得分的 softmax），按数字标注：",
    "digit.predicted": "  预测为 {digit}（{p}）；损失函数 -log p_{label} = {loss}",
    "digit.wants": "这个训练样本想要什么（按大小排序）：dL/dz_k = p_k - [k = {label}]；"
                   "一步梯度下降把每个得分移动 -lr * dL/dz_k",
    "digit.raise": "  提高 {k}：dL/dz_{k} = {grad}",
    "digit.lower": "  降低 {k}：dL/dz_{k} = {grad}",
    "digit.top": "它的 13,002 个参数梯度中最大的 10 个：",
    "digit.pixel": "  （隐藏神经元 {neuron}，像素第 {row} 行，第 {column} 列）",
    "digit.share": "每个参数张量占梯度范数平方的比例：{shares}",
    "converge.title": "收敛速度：直到最近 {window} 个批次的平均训练损失 < {threshold} 所需的步数",
    "converge.setup": "784-64-64-64-10，SGD 批大小 64，{images} 张 mini-MNIST 图像，相同的初始"
                      "权重（种子 0，PyTorch 的默认初始化；relu+He：He 初始化）；'-' = {steps} "
                      "步内未达到",
    "converge.lr": "学习率",
    "converge.best": "最好",
    "converge.tanh_relu": "tanh 需要的步数是 ReLU 的 {ratio}x（各自用最好的学习率：{tanh} 和 "
                          "{relu}）；讲义说大约 {claim}x，那是在 CIFAR-10 上用一个 4 层 CNN "
                          "测的，不是这个网络。",
    "converge.tanh_he": "tanh 需要的步数是 He 初始化的 ReLU 的 {ratio}x（学习率 {tanh} 和 "
                        "{he}）。",
    "converge.sigmoid": "sigmoid 需要的步数是 ReLU 的 {ratio}x。",
    "converge.sigmoid_never": "sigmoid 在这些学习率下 {steps} 步内都没有达到。",
    "act.collapse_title": "没有非线性：Linear(2, 16) -> Linear(16, 2) 就是一个矩阵",
    "act.collapse_trained": "用 Adam 训练（学习率 lr 0.01，{steps} 步全批量），400 个圆环数据点",
    "act.collapse_matrix": "W = W2 @ W1 = {W}（2x2，秩 {rank}），b = W2 @ b1 + b2 = {b}",
    "act.collapse_difference": "两层网络与用 W、b 的单个 Linear(2, 2)：输出的最大差异 "
                               "{difference}（float32 舍入误差）",
    "act.collapse_accuracy": "训练准确率：两层、没有激活函数 {linear}（一条直线穿过两个圆环）；"
                             "中间加上 tanh {tanh}",
    "act.saturation_title": "初始权重太大会让 sigmoid 单元饱和（784-64-64-10，{images} 张 "
                            "mini-MNIST 图像，SGD 训练一个 epoch，学习率 lr 0.5，批大小 32）",
    "act.saturation_meaning": "饱和 = sigmoid 输出小于 {low} 或大于 {high}，在初始化时对 2,000 "
                              "张测试图像统计",
    "act.layer_share": "第 {layer} 层 {share}",
    "act.saturation_row": "  初始化 {name} 饱和：{share}；训练一个 epoch 后的测试准确率 "
                          "{accuracy}",
    "act.dead_title": "死亡的 ReLU：对全部 2,000 张测试图像都输出 0 的单元（784-64-64-10，"
                      "SGD 训练一个 epoch，批大小 32，{images} 张 mini-MNIST 图像）",
    "act.dead_init": "  初始化时：第 1 层 64 个中 {first} 个，第 2 层 64 个中 {second} 个",
    "act.dead_row": "  学习率 lr {lr} 死亡：第 1 层 64 个中 {first} 个，第 2 层 64 个中 {second} "
                    "个；测试准确率 {accuracy}",
    "act.zigzag_title": "sigmoid 的输出不以 0 为中心：下一层权重走之字形路径",
    "act.zigzag_setup": "一个神经元 w . x 学习 w* = (1, -1)，SGD 学习率 lr 0.5，每步一个样本，"
                        "共 {steps} 步，输入 x = sigmoid(z) 或 tanh(z)，z ~ N(0, 4)",
    "act.zigzag_row": "  {name} 两个权重朝同一方向移动的步数比例：{same}；{reached}",
    "act.zigzag_reached": "{steps} 步后与 w* 相差不超过 0.05",
    "act.zigzag_never": "{steps} 步内没有进入 w* 的 0.05 以内",
    "capacity.depth_title": "实践中越深越好吗？隐藏层数 x ReLU 单元数（He 初始化），Adam 学习率 "
                            "lr 0.01，{steps} 步全批量，300 个螺旋数据点（测试：另外 300 个）",
    "capacity.depth_row": "  {label}（{parameters} 个参数）：训练 {train}，测试 {test}",
    "capacity.depth_compare": "  参数一样多时，一个宽层达到 {wide}，四个窄层达到 {deep}：{verdict}",
    "capacity.deeper": "深度把参数用得更好",
    "capacity.wider": "宽度把参数用得更好",
    "capacity.same": "差不多（相差不到 2 个百分点）",
    "capacity.overfit_title": "过拟合：20 个 tanh 隐藏单元，60 个带噪声的螺旋数据点（噪声 0.5），"
                              "Adam 学习率 lr 0.02，{steps} 步全批量；测试：另外 600 个点",
    "capacity.overfit_best": "  测试损失在第 {step} 步最低：{test}（训练 {train}）",
    "capacity.overfit_last": "  第 {step} 步：训练损失 {train}，测试损失 {test}，差距 {gap}"
                             "（最好的那一步是 {best_gap}）",
    "capacity.overfit_accuracy": "  准确率：训练 {train}，测试 {test}",
    "capacity.seed_title": "小网络取决于随机种子：螺旋数据上 3 个 tanh 隐藏单元，Adam 学习率 lr "
                           "0.01，{steps} 步，{seeds} 个种子（数据和训练都相同，只有初始权重不同）",
    "capacity.seed_loss": "  最终训练损失：最低 {lowest}（种子 {lowest_seed}），中位数 {median}，"
                          "最高 {highest}（种子 {highest_seed}）",
    "capacity.seed_accuracy": "  训练准确率从 {low} 到 {high}",
    "networks.title": "参数：每个权重和每个偏置（输入层之后的每个神经元各有一个偏置）",
    "networks.row": "  {name} 权重 {sums} = {weights}；偏置 {bias_sums} = {biases}；共 {total}",
    "second.title": "用自动微分（create_graph=True）求一阶和二阶导数：",
    "second.row": "  {name} f' 的最大值 {slope}（x = {at}）；|f''| 的最大值 {curvature}（|x| = "
                  "{curvature_at}）；f'(4) = {slope4}",
    "second.saturation": "  sigmoid 的斜率最多为 1/4，|x| 超过 4 后几乎为 0（f'(4) = {slope4}）："
                         "饱和的神经元几乎不向后传递梯度（梯度消失）",
    "second.race": "牛顿法与梯度下降（学习率 lr {lr}）在 L(w) = log(1 + e^w) - 0.8 w + 0.05 w^2 "
                   "上从 w = -4 出发：",
    "second.newton": "  牛顿法：{steps} 步达到 |L'(w)| < 1e-10（w = {w}）",
    "second.descent": "  梯度下降：{steps} 步（w = {w}）",
}
