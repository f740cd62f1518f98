"""Learn: the families of meta-learning, each method's idea and formulas, how to choose, how to
read a comparison, and the papers."""

import streamlit as st

st.title("Learn")
st.markdown("""
Meta-learning methods differ in *what* they carry from the training tasks to a new task. Four
families cover most of the field, and a plain transfer baseline is the yardstick for all of them.
""")

st.header("Metric-based: Prototypical Networks")
st.markdown("""
Learn an embedding $f_\\phi$ in which a new class is well summarised by the mean of its few
examples. Classification is then a nearest-mean rule: no learning happens at test time.
""")
st.latex(
    r"c_k = \frac{1}{|S_k|} \sum_{(x_i, y_i) \in S_k} f_\phi(x_i), \qquad "
    r"p_\phi(y = k \mid x) = \frac{\exp(-\lVert f_\phi(x) - c_k \rVert^2)}"
    r"{\sum_{k'} \exp(-\lVert f_\phi(x) - c_{k'} \rVert^2)}"
)
st.code(
    """for each training episode (support S, query Q):
    prototypes c_k = mean embedding of class k in S
    loss = cross-entropy of softmax(-squared distance to prototypes) on Q
    update phi by gradient descent on loss""",
    language=None,
)

st.header("Optimization-based: MAML and the LSTM meta-learner")
st.markdown("""
**MAML** looks for initial weights $\\theta$ from which a few gradient steps on a task's support set
already give a good model for that task. The outer update differentiates *through* the inner
steps (first-order MAML drops those second derivatives to save compute).
""")
st.latex(
    r"\theta_i' = \theta - \alpha \nabla_\theta \mathcal{L}_{S_i}(f_\theta), \qquad "
    r"\theta \leftarrow \theta - \beta \nabla_\theta \sum_i \mathcal{L}_{Q_i}(f_{\theta_i'})"
)
st.markdown("""
**The LSTM meta-learner** (Ravi & Larochelle) replaces the hand-written update rule with a learned
one: the learner's parameters play the role of an LSTM cell state, the input gate acts as a
learned, per-step learning rate and the forget gate as learned weight shrinkage.
""")
st.latex(r"\theta_t = f_t \odot \theta_{t-1} + i_t \odot (-\nabla_{\theta_{t-1}} \mathcal{L}_t)")

st.header("Memory-based: Memory-Augmented Neural Networks")
st.markdown("""
A controller network writes each example, together with its label, into an external memory and
reads by content similarity: a class seen once can be recalled the next time it appears. The label
of step $t$ is only given at step $t+1$, so the network must *bind* images to labels in memory.
Writes go either to the slot read last (to add the label that has just arrived to the image stored
there) or to the least recently used slot, which is cleared first; a gate learns the mix.
""")
st.latex(
    r"w^r_t(i) = \mathrm{softmax}_i\left(\beta_t\frac{k_t \cdot M_t(i)}"
    r"{\lVert k_t \rVert \lVert M_t(i) \rVert}\right), \qquad r_t = \sum_i w^r_t(i) M_t(i)"
)
st.latex(
    r"w^w_t = \sigma(\alpha_t)\, w^r_{t-1} + (1 - \sigma(\alpha_t))\, w^{lu}_{t-1}, \qquad "
    r"M_t = M_{t-1} + w^w_t k_t^\top"
)
st.markdown(r"""
Trained naively it sits for a long time at chance on every presentation after the first: its keys
start out nearly identical for all images (the controller's memory cell mixes many past inputs),
so every read returns the average of memory. Starting the controller with a low forget-gate bias
and a sharp key strength $\beta$ lets similar images find each other from the first updates; see
the Inside page for how the memory is then used.
""")

st.header("Transfer baseline: pre-train, then fine-tune")
st.markdown("""
Train one ordinary classifier on all training classes; for a new task, freeze the features and fit
a new classifier on the support set. With a cosine-similarity head (Baseline++) this simple recipe
is competitive with many meta-learners - which is why every comparison should include it. The
same idea, at full scale, is the classic workflow of training a network on a big dataset and
fine-tuning it on a small one (the CIFAR-10 pipeline of `finetune --finetune-mode seed`).
""")

st.header("How to choose")
st.markdown("""
- **Few labels, many related tasks, need fast inference:** metric-based (ProtoNet) - simple,
  stable, and strong on Omniglot-like data.
- **Tasks differ in their output structure, or you need regression:** optimization-based (MAML).
  Expect more compute per step and more sensitivity to learning rates.
- **Examples arrive as a stream:** memory-based methods learn online within an episode.
- **Plenty of labelled base classes:** start with the fine-tuning baseline; beat it before
  claiming a meta-learning win.
- **Data is very different from the training tasks:** fine-tuning more layers usually helps more
  than any meta-learner.
""")

st.header("Reading a comparison")
st.markdown("""
- Every run is scored on the **same seeded test episodes** for a given dataset and episode shape,
  so differences come from the methods, not from luck in sampling.
- The **95% confidence interval** is 1.96 standard errors over episodes. Two intervals that
  overlap do not prove a tie: the **paired comparison** (per-episode differences) is sharper.
- Look at three views, as one should for any learning method: final **accuracy**, the **loss**
  curve (is it still falling?), and **convergence speed** (episodes and seconds to a target).
""")

st.header("Papers")
st.markdown("""
- Snell, Swersky, Zemel. *Prototypical Networks for Few-shot Learning.* NeurIPS 2017.
- Finn, Abbeel, Levine. *Model-Agnostic Meta-Learning for Fast Adaptation of Deep
  Networks.* ICML 2017.
- Ravi, Larochelle. *Optimization as a Model for Few-Shot Learning.* ICLR 2017.
- Santoro et al. *One-shot Learning with Memory-Augmented Neural Networks.* ICML 2016.
- Chen et al. *A Closer Look at Few-shot Classification.* ICLR 2019.
- Vinyals et al. *Matching Networks for One Shot Learning.* NeurIPS 2016 (the Omniglot split).
- Lake, Salakhutdinov, Tenenbaum. *Human-level concept learning through probabilistic program
  induction.* Science 2015 (Omniglot).
""")
