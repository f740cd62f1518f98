"""Learn: the article's four families of meta-learning with every method of the lab in its place
(idea, formula, pseudo-code, paper), how to choose, how to read a comparison."""

import pandas as pd
import streamlit as st

from metalearn import catalog
from pages._i18n import N_, idea, t

FAMILY_NAMES = catalog.FAMILY_NAMES
# docs/results/pretrained_mini.md: 5-way 1-shot accuracy (%) on miniImageNet's test episodes.
MINI = {"frozen": "66.5", "tuned": "75.4", "pmf": "75.6"}
FAMILY_IDEAS = {
    "model": N_("""
A meta-model is trained across many tasks so that, from a task's few examples, it produces a
model for that task. The article files MAML here: what MAML learns is an *initial model*,
and a few gradient steps on the support set turn it into the task's model. Most of the literature
(e.g. the surveys of Hospedales et al. 2021 and Weng 2018) calls MAML and its relatives
*optimization-based* instead, because the adaptation is gradient descent, and keeps
"model-based" for networks that take the support set as input and output the prediction directly
(SNAIL, neural processes). Below, each method shows both names where they differ.
"""),
    "optimization": N_("""
What is learned is the *optimiser*: the rule that turns a task's gradients into parameter updates,
so that a few updates on a new task suffice. In the article's sense this is the LSTM meta-learner,
whose gates act as a learned learning rate and a learned weight decay.
"""),
    "metric": N_("""
Learn a space in which examples of the same class are close. A new class is then handled by a
comparison (distance to a class mean, attention over the support set, a learned relation score,
a closed-form linear fit) with no gradient steps at test time.
"""),
    "memory": N_("""
A network with an external memory stores what it has just seen (an image and its label) and
recalls it by content when a similar image comes back, so it learns within a single episode.
Many surveys count memory-augmented networks among the model-based methods; the article gives them
a family of their own.
"""),
    "transfer": N_("""
Not meta-learning, and the yardstick for all of it: train one ordinary classifier on all the
training classes, then reuse its features for a new task. The same recipe at full scale is the
article's title theme, fine-tuning a pre-trained model.
"""),
}

st.title(t("Learn"))
st.markdown(
    t("""
Meta-learning methods differ in *what* they carry from the training tasks to a new task. The article
"Meta-learning with fine-tuned models" sorts them into four families: model-based,
optimization-based, metric-based and memory-based; a plain transfer baseline is the yardstick
for all of them. Every method of this lab is listed below under the article's family, with
its idea, its formula, short pseudo-code and its paper.
""")
)
algorithms = catalog.algorithms()
st.dataframe(
    pd.DataFrame(
        [
            {
                t("method"): a.name,
                t("article's family"): t(FAMILY_NAMES[a.family_in_seed]),
                t("usual family in the literature"): t(FAMILY_NAMES[a.family]),
                t("in one line"): t(a.summary),
            }
            for a in algorithms.values()
        ]
    ),
    hide_index=True,
)


def paper(doc: str) -> str:
    """The docstring's first paragraph: the method's name and its paper."""
    return " ".join(doc.split("\n\n")[0].split())


def idea_of(name: str, doc: str) -> str:
    """How the method works: the docstring's second paragraph, in the page's language."""
    parts = doc.split("\n\n")
    return idea(name, " ".join(parts[1].split()) if len(parts) > 1 else "")


for family, title in FAMILY_NAMES.items():
    st.header(t(title))
    st.markdown(t(FAMILY_IDEAS[family]))
    for a in (a for a in algorithms.values() if a.family_in_seed == family):
        with st.expander(f"**{a.name}** - {t(a.summary)}"):
            # same in every language (a reference)
            st.container(key=f"references-{a.name}").caption(paper(a.doc))
            if a.family != a.family_in_seed:
                st.info(
                    t(
                        "The article: {seed} (it learns an initial model). The literature: "
                        "{usual} (it adapts by gradient steps).",
                        seed=t(FAMILY_NAMES[a.family_in_seed]).lower(),
                        usual=t(FAMILY_NAMES[a.family]).lower(),
                    )
                )
            st.markdown(idea_of(a.name, a.doc))
            if a.formula:
                st.latex(a.formula)
            if a.pseudocode:
                st.code(a.pseudocode, language=None)

st.header(t("How to choose"))
st.markdown(
    t("""
- **Few labels, many related tasks, need fast inference:** metric-based (ProtoNet) - simple,
  stable, and strong on Omniglot-like data.
- **Tasks differ in their output structure, or you need regression:** MAML and its kin (Reptile,
  Proto-MAML).
  Expect more compute per step and more sensitivity to learning rates.
- **Examples arrive as a stream:** memory-based methods learn online within an episode.
- **Plenty of labelled base classes:** start with the fine-tuning baseline; beat it before
  claiming a meta-learning win.
- **Data is very different from the training tasks:** fine-tuning more layers usually helps more
  than any meta-learner.
""")
)

st.header(t("Fine-tuning a pre-trained model, and a trap"))
st.markdown(
    t("""
The article's own transfer example trains a small CNN on CIFAR-10's 50,000 training images, then
fine-tunes it for one pass on 1000 of them and scores it on the 10,000 test images (run it:
Train, algorithm *finetune*, mode *seed*, dataset *cifar10*). What it shows: a network trained on
plenty of data is a good starting point, and a short fine-tuning barely moves it. What it does not
show: the 1000 images come from the **same ten classes**, so this is not a new task; few-shot
learning starts where the classes at test time were never seen in training (the *cifar10*
episodes test on horse, ship and truck, held out).

**Which 1000 images matters.** The article takes "the first 1000 training images". In the official
archive those are mixed classes; in a copy stored as class folders they are all airplanes, and one
pass over them teaches the network to answer "airplane" to everything. Measured here (CPU,
10 epochs, seed 0, the JPEG copy of CIFAR-10):
""")
)
st.table(
    pd.DataFrame(
        {
            t("Fine-tuned on"): [
                t("1000 images drawn at random (default)"),
                t("the first 1000 (airplanes)"),
            ],
            t("Test accuracy before"): [0.419, 0.419],
            t("after"): [0.414, 0.108],
        }
    ).set_index(t("Fine-tuned on"))
)
st.caption(
    t(
        "The setting 'Fine-tuning images (article's pipeline)' on the Train page picks random, "
        "balanced (100 per class) or first; a run reports which it used and how many classes "
        "those images held."
    )
)
st.markdown(
    t(
        """
**The same recipe from a pretrained network.** Start instead from EfficientNet-Lite0 with its
ImageNet weights (Train: backbone *efficientnet_lite0* in the same mode): its features of every
image are computed once, and the same SGD steps train a new output layer on them. Measured here,
CPU, seed 0, photos resized to {size} px:
""",
        size="128",
    )
)
st.table(
    pd.DataFrame(
        {
            t("Network"): [
                t("SimpleCNN trained from scratch"),
                t("EfficientNet-Lite0 pretrained on ImageNet, frozen, new output layer"),
            ],
            t("Test accuracy before"): [0.419, 0.797],
            t("after"): [0.414, 0.798],
            t("Time"): [t("56 s of training"), t("217 s reading the images once, 3 s of training")],
        }
    ).set_index(t("Network"))
)
st.caption(
    t(
        "From `docs/results/cifar_pipeline.md` (95% CIs about ±0.01). The pretrained network "
        "nearly doubles the accuracy: features learned on a million photos carry over to "
        "CIFAR-10's everyday classes, while the small CNN learns its features from 50,000 tiny "
        "images in ten epochs."
    )
)

st.header(t("Text: what a pretrained encoder buys"))
st.markdown(
    t("""
Few-shot intent detection (dataset *clinc150*: sentences people say to a voice assistant, 150
intents; the test intents are never seen in training). Each sentence is turned into a vector by
an encoder, and ProtoNet classifies a query sentence by the nearest class mean. Three encoders:

- **frozen**: *all-MiniLM-L6-v2*, a sentence encoder pretrained on a billion sentence pairs,
  used as it is; no training at all (Train: backbone *minilm*, episodes 0);
- **fine-tuned**: the same encoder, every layer trained further on the training intents'
  episodes with a small learning rate (fine-tune the pretrained encoder: *all*) - the article's
  theme, meta-learning with a fine-tuned pretrained model;
- **from scratch**: word embeddings learned only from the 50 training intents (backbone *bag*).

Measured here, CPU, 20 minutes of training each, 600 test episodes:
""")
)
st.table(
    pd.DataFrame(
        {
            t("Encoder"): [t("frozen"), t("fine-tuned"), t("from scratch")],
            t("Training"): [
                t("none"),
                t("20 min ({n} episodes)", n="2602"),
                t("20 min ({n} episodes)", n="62,550"),
            ],
            "5-way 1-shot": [0.955, 0.975, 0.647],
            "10-way 1-shot": [0.920, 0.950, 0.529],
        }
    ).set_index(t("Encoder"))
)
st.caption(
    t(
        "docs/results/clinc_text.md: 95% CIs of ±0.003 to ±0.009. Pretraining is worth far more "
        "than any amount of episodic training on 50 intents; fine-tuning it episodically adds a "
        "little more on the unseen intents."
    )
)

st.header(t("Images: a network pretrained on ImageNet, and what it has already seen"))
st.markdown(
    t(
        """
Backbone *efficientnet_lite0* arrives trained on ImageNet-1k: about 1.3 million labelled photos
of 1000 classes. Kept frozen, with no training at all, SimpleShot's rule on its features (a query
goes to the nearest class centroid of centred, unit-length features) scores **{one}%** on
miniImageNet's 5-way 1-shot test episodes and **{five}%** on 5-shot ones ({size} px inputs, 600
episodes each) - where ProtoNet, trained on miniImageNet's own 64 training classes, reports 49.4%
and 68.2% in its paper.

Read that twice. miniImageNet's 100 classes are ImageNet classes, its 20 test classes included:
this network was trained, with their labels, on the very classes it is tested on. Its own
ImageNet classifier names {top1}% of those test photos correctly among all 1000 classes. Few-shot
learning asks how a method does on classes it has never seen; a backbone that has seen them
answers an easier question, so its score is not comparable with the papers' rows. A run on it
says so: "test classes seen in pretraining" on the Runs page, in its result
(`test_classes_seen_in_pretraining`) and in a block of its own under the miniImageNet table. The
check reads class identifiers (WordNet ids such as `n01532829`): glyphs, Omniglot and your own
folders are not marked unless their folders are named by such ids; CIFAR-10's ten classes have
no ids, though some of its words (cat, dog, truck) are ImageNet classes too.

One more trap: the network expects its inputs scaled as in its TensorFlow training, (255 x -
127) / 128. With ImageNet's usual mean and deviation instead it still runs, and its top-1 on the
same photos drops from {top1}% to {wrong}% with no error anywhere.
""",
        one="79.5",
        five="92.2",
        size="224",
        top1="47.8",
        wrong="38.4",
    )
)
st.markdown(
    t(
        """
**Fine-tuning it, and where that pays.** With *fine-tune: top* the network's last two stages and
its head train as ProtoNet's feature network (the frozen layers below run once per image, cached).
On Omniglot's handwritten characters, which ImageNet's photos never showed, it pays: 5-way 1-shot
**{omni_frozen}%** frozen, **{omni_tuned}%** after ten minutes of meta-training on this CPU. On
miniImageNet, whose test classes the network already knows, there is little left to learn and
much to forget: frozen {mini_frozen}%, meta-trained {mini_tuned}%, and with P>M>F's last stage
(twenty steps of tuning on each test task's own support photos) {mini_pmf}% ({size} px, cosine
scores, `docs/results/pretrained_mini.md`).

How a network is scored matters as much. With the paper's squared Euclidean distance the same
meta-training fell to {euclid}%: the pretrained features are large, so Euclidean scores start
overconfident and wrong answers cost tens of nats each; the optimiser lowers that loss fastest by
pulling all features together, and the distinctions the pretraining had learned go with them.
Cosine similarity times a learned scale, as P>M>F scores, has no such shortcut.
""",
        omni_frozen="67.0",
        omni_tuned="89.2",
        mini_frozen=MINI["frozen"],
        mini_tuned=MINI["tuned"],
        mini_pmf=MINI["pmf"],
        size="112",
        euclid="33.0",
    )
)

st.header(t("Meta-reinforcement learning"))
st.markdown(
    t("""
In reinforcement learning a task is an *environment*, not a labelled set: here (`nav2d`, from the
MAML paper) a point starts at the origin and must reach a goal it cannot see, rewarded by minus
its distance to the goal at every one of 100 steps. The "support set" of a task is a handful of
**trajectories** the agent collects itself (K, the examples setting), and adaptation is a
**policy-gradient step** on them: actions that were followed by more reward than the baseline
expected become more likely.

- **MAML** learns a starting policy from which one such step on a new goal already heads for it;
  the meta-gradient flows through that step.
- **The pre-trained baseline** (finetune) learns one policy for all training goals at once, which
  can only head for their average (the centre), then takes the same steps.
- **A random policy** (finetune with no training) takes the same steps from scratch.
- **The oracle** sees the goal; its return is the ceiling adaptation can approach.

**Convergence speed.** The article judges meta-reinforcement learning by how *quickly* a learner
becomes good on a new task, not only by how good it ends: each run reports its average return
after 0, 1, 2 and 3 adaptation steps on fixed test goals, and the steps (and environment samples:
K trajectories x 100 steps each) it needed to reach a return threshold. The article expects
optimization-based methods to suit reinforcement learning, because adapting by gradient steps
works for any reward, with no labels to compare against; the Compare page's return-vs-steps chart
is where to check that claim.
""")
)

st.header(t("Reading a comparison"))
st.markdown(
    t("""
- Every run is scored on the **same seeded test episodes** for a given dataset and episode shape,
  so differences come from the methods, not from luck in sampling.
- The **95% confidence interval** is 1.96 standard errors over episodes. Two intervals that
  overlap do not prove a tie: the **paired comparison** (per-episode differences) is sharper.
- Look at three views, as one should for any learning method: final **accuracy**, the **loss**
  curve (is it still falling?), and **convergence speed** (episodes and seconds to a target).
""")
)

st.header(t("Papers"))
st.container(key="references").markdown(  # same in every language (references)
    "\n".join(f"- {paper(a.doc)}" for a in algorithms.values())
    + """
- Lake, Salakhutdinov, Tenenbaum. *Human-level concept learning through probabilistic program
  induction.* Science 2015 (Omniglot).
- Vinyals et al. *Matching Networks for One Shot Learning.* NeurIPS 2016 (the Omniglot split).
"""
)
