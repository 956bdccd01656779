"""Assignment 2: stacking 3x3 convolutions, the receptive field, planning with max pooling.

Each graded question of the notebook is declared here once; a check cell reads
``a2.chain_199.check(chain_199)``. The right answers are not here: they live in
the source assignment's hidden tests (and, in a practice release, as salted
digests). What is here are the questions, the ways answers are read, the
mistakes each one recognizes and their hints.

>>> chain_199.check("from one hundred ninety-nine down to one").message
'chain_199 cannot be read as a chain of sizes (no sizes found).'
>>> n_convs_199.check(100).hint.split(":")[0]
'You counted the sizes in the chain'
"""
from __future__ import annotations

from ..checks import mode
from ..checks.compare import canonical, chain_problem, close, expand_chain
from ..checks.parse import Reading, read_chain, read_numbers, read_whole_number
from ..checks.question import (ChainPart, Example, FunctionPart, NumberListPart, NumberPart, PlanPart, Question, Rule,
                               SizePart)

ASSIGNMENT = "a2_receptive_field"

#: The lecture network's layers as (kernel, stride), as the notebook gives them (the input of rf_lecture).
LECTURE_LAYERS = ((3, 1), (3, 1), (2, 2), (3, 1), (3, 1), (2, 2), (3, 1), (3, 1), (3, 1))


def progress() -> mode.Progress:
    """Every question of this assignment: the last check's state and how often it was checked."""
    return mode.progress(ASSIGNMENT)


# --- 2. From 199x199 down to 1x1 --------------------------------------------------------------------
def _chain_result(value) -> Reading:
    return read_chain(value, kernel=None)


def _chain_key(value):
    return expand_chain(value) if isinstance(value, str) else list(value)


def _chain_diagnosis(reading: Reading, inputs: tuple) -> str | None:
    size, kernel = inputs[0], inputs[1] if len(inputs) > 1 else 3
    return chain_problem(reading.details["sizes"], size, kernel)


conv_chain = Question(
    ASSIGNMENT, "test_conv_chain", "conv_chain", "A function that writes the chain of sizes",
    prompt="conv_chain(size, kernel=3) returns the chain of sizes as text, from size down to the last size a "
           "further convolution (no padding, stride 1) cannot shrink.",
    parts=[FunctionPart(
        "conv_chain", 2,
        examples=[Example((7,), "7x7 > 5x5 > 3x3 > 1x1", "conv_chain(7)"),
                  Example((11, 5), "11x11 > 7x7 > 3x3", "conv_chain(11, kernel=5)")],
        reader=_chain_result, compare=lambda got, want: list(got) == list(want), canon=canonical,
        key_reader=_chain_key, diagnose=_chain_diagnosis,
        timeout=2.0, hidden_about="other sizes and kernels",
        hidden_advice="Make it work for any size and kernel: a size does not always land on 1x1, and a kxk kernel "
                      "removes k - 1 from each side.",
        timeout_hint="A loop that never ends? `while n != 1` runs for ever when the size cannot land exactly on 1 "
                     "(an even size, another kernel): stop when the next convolution no longer fits.")],
    hints=["Start from [size] and append size - (kernel - 1) while that is still at least 1.",
           "Join the sizes with ' > ' and write each as f'{n}x{n}'.",
           "Return the text; printing it is not enough."])

chain_199 = Question(
    ASSIGNMENT, "test_chain_199", "chain_199", "The chain from 199x199 to 1x1",
    prompt="chain_199: the chain of sizes from 199x199 down, one 3x3 convolution (no padding) at a time.",
    parts=[ChainPart("chain_199", 2, start=199, kernel=3)],
    hints=["Each 3x3 convolution without padding removes one pixel at every border.",
           "Write the first few steps by hand, then let conv_chain(199) write the rest.",
           "The chain stops when the next convolution would no longer fit."])

n_convs_199 = Question(
    ASSIGNMENT, "test_n_convs_199", "n_convs_199", "How many convolutions from 199x199",
    prompt="n_convs_199: how many 3x3 convolutions the chain from 199x199 takes.",
    parts=[NumberPart(
        "n_convs_199", 1, what="a count of convolutions",
        wrong={100: "You counted the sizes in the chain: every size, the input included, is one entry, but a "
                    "convolution is an arrow between two sizes. Count the arrows.",
               198: "Each 3x3 convolution without padding shrinks a side by 2, not by 1."},
        rules=[Rule(lambda n: n > 199, "More convolutions than the image has pixels across: each one removes at least a "
                                       "pixel, so this cannot be. A typo?"),
               Rule(lambda n: n <= 0, "A count of convolutions is a positive whole number.")])],
    hints=["Count the arrows of your chain, not its sizes.",
           "For 7x7 > 5x5 > 3x3 > 1x1 that is 3 convolutions."])


# --- 3. Receptive field of a stack of convolutions ----------------------------------------------------
def _rf_after_diagnosis(reading: Reading, inputs: tuple) -> str | None:
    n, kernel = inputs[0], inputs[1] if len(inputs) > 1 else 3
    value = reading.value
    if value == n * (kernel - 1):
        return "The input pixel counts too: the receptive field starts at 1 before any layer."
    if value == 1 + n * kernel or value == n * kernel:
        return f"A {kernel}x{kernel} layer adds k - 1 = {kernel - 1} pixels to the receptive field, not {kernel}."
    if n and value == kernel ** n:
        return "Receptive fields of stride-1 layers add up; they do not multiply."
    return None


rf_after = Question(
    ASSIGNMENT, "test_rf_after", "rf_after", "The receptive field after n layers",
    prompt="rf_after(n_layers, kernel=3): the global receptive field after n_layers stride-1 convolutions.",
    parts=[FunctionPart(
        "rf_after", 1, examples=[Example((5,), 11, "rf_after(5)"), Example((2, 5), 9, "rf_after(2, kernel=5)")],
        reader=lambda v: read_whole_number(v, "a receptive field"), compare=close, diagnose=_rf_after_diagnosis,
        hidden_about="other numbers of layers and kernels",
        hidden_advice="It should hold for no layer at all, one layer, and any odd kernel.")],
    hints=["The receptive field starts at 1 (a pixel sees itself).", "Each stride-1 kxk layer adds k - 1."])

layers_for_rf_21 = Question(
    ASSIGNMENT, "test_layers_for_rf_21", "layers_for_rf_21", "Layers for a receptive field of 21",
    prompt="layers_for_rf_21: how many 3x3 layers (stride 1) give a receptive field of 21x21.",
    parts=[NumberPart(
        "layers_for_rf_21", 1, what="a number of layers",
        wrong={11: "You counted the receptive fields 1, 3, 5, ..., 21; the input's RF of 1 needs no layer.",
               21: "21 is the receptive field itself; how many layers of +2 take you from 1 to 21?",
               7: "A 3x3 layer adds 2 to the RF, not 3.",
               20: "Each 3x3 layer adds 2, not 1."})],
    hints=["Use your rf_after: try a few numbers of layers.", "Each 3x3 layer adds 2 to the RF, from 1."])


def _size_rules(height: int, width: int, kernel: int) -> list[Rule]:
    return [
        Rule(lambda s: s == (height, width), "That is the size with padding 1; this convolution has none."),
        Rule(lambda s: s == (height - 1, width - 1),
             f"A {kernel}x{kernel} kernel without padding cannot be centred on the outer pixel at each border: "
             f"each side loses {kernel - 1}, not 1."),
        Rule(lambda s: s[0] > height or s[1] > width, "A convolution without padding never makes the image larger."),
        Rule(lambda s: s[0] == s[1], f"Height and width shrink separately: the input is {height} high and {width} wide."),
        Rule(lambda s: s[0] > s[1], f"Keep the order (height, width): the input is {height} high and {width} wide."),
    ]


size_47x49 = Question(
    ASSIGNMENT, "test_size_47x49", "size_47x49", "The output size of a 3x3 convolution on 47x49",
    prompt="size_47x49: the output size (height, width) of a 3x3 convolution without padding on a 47x49 input.",
    parts=[SizePart("size_47x49", 2, dims=2, rules=_size_rules(47, 49, 3))],
    hints=["Apply out = in - (k - 1) to the height and to the width separately.", "Give a pair (height, width)."])


# --- 4. Planning with max pooling -------------------------------------------------------------------------
plan_100 = Question(
    ASSIGNMENT, "test_plan_100", "plan_100", "A plan from 100x100 to 1x1 with max pooling",
    prompt="plan_100: a chain from 100x100 to 1x1 with 3x3 convolutions and 2x2 max pools marked MP (at least two "
           "convolutions before each pool, the odd row dropped, as few convolutions as the rules allow).",
    parts=[PlanPart("plan_100", 2, start=100, kernel=3, min_convs=2)],
    hints=["A pool halves the size, which saves many convolutions: pool as soon as the rules allow.",
           "An odd size pools down: 9x9 becomes 4x4.",
           "Check near the end: which sizes can still reach exactly 1x1 with 3x3 convolutions?"])

convs_100 = Question(
    ASSIGNMENT, "test_convs_100", "convs_100", "Convolutions of the plan from 100x100",
    prompt="convs_100: the number of convolutions of your plan (pools are not counted).",
    parts=[NumberPart(
        "convs_100", 1, what="a number of convolutions",
        wrong={13: "Max pools are not counted, only the convolutions.",
               14: "You counted the sizes in your plan; count only the convolution steps.",
               49: "That is without any pooling (and from an even size the chain never reaches 1x1)."})],
    hints=["Count the steps of your plan that are convolutions (a size minus 2)."])


# --- 5. Two 3x3 versus one 5x5 ---------------------------------------------------------------------------------
two_vs_one = Question(
    ASSIGNMENT, "test_two_vs_one", "two_vs_one", "Two stacked 3x3 against one 5x5",
    prompt="weights_two_3x3 and weights_one_5x5: the weights of two stacked 3x3 convolutions and of one 5x5 "
           "(one input and one output channel, no bias); rf_two_3x3: the receptive field of the two 3x3 layers.",
    parts=[NumberPart("weights_two_3x3", 0.25, what="a number of weights",
                      wrong={9: "There are two layers of 3x3 weights each.",
                             81: "The two layers are stacked, so their weights add up; they do not multiply."}),
           NumberPart("weights_one_5x5", 0.25, what="a number of weights",
                      wrong={5: "A 5x5 kernel is a grid of weights: count every cell of it.",
                             10: "A 5x5 kernel is a grid of weights: count every cell of it."}),
           NumberPart("rf_two_3x3", 0.5, what="a receptive field",
                      wrong={6: "Each 3x3 adds k - 1 = 2 to the RF, starting from 1.",
                             9: "Receptive fields do not multiply: each layer adds k - 1 to the RF before it.",
                             4: "The receptive field starts at 1, the pixel itself."})],
    hints=["A kxk kernel with one input and one output channel has k * k weights.",
           "Stacked layers add their weights; the RF grows by k - 1 per layer."])


# --- 6. The exact receptive field of every layer --------------------------------------------------------------
def _shortcut(values, layers) -> bool:
    pools = [i for i, (k, s) in enumerate(layers) if s > 1]
    return bool(pools) and all(i > 0 and values[i] == 2 * values[i - 1] for i in pools)


def _no_jump(values, layers) -> bool:
    rf = 1
    for value, (k, _) in zip(values, layers):
        rf += k - 1
        if value != rf:
            return False
    return len(values) == len(layers)


_SHORTCUT_HINT = ("This is the lecture's shortcut (a max pool doubles the RF). The exact rule adds (k - 1) * jump "
                  "per layer: a 2x2 pool with stride 2 adds only 1 * jump, but doubles the jump for every later layer.")
_NO_JUMP_HINT = ("Every layer adds k - 1 no matter where it sits: after a stride-2 layer each step of a later layer "
                 "is `jump` input pixels apart, so a 3x3 convolution there adds 2 * jump.")

rf_lecture = Question(
    ASSIGNMENT, "test_rf_lecture", "rf_lecture", "The receptive field after every layer of the lecture network",
    prompt="rf_lecture: the global receptive field after each layer of LECTURE_LAYERS (the exact rule).",
    parts=[NumberListPart("rf_lecture", 2, length=len(LECTURE_LAYERS),
                          rules=[Rule(lambda v: _shortcut(v, LECTURE_LAYERS), _SHORTCUT_HINT),
                                 Rule(lambda v: _no_jump(v, LECTURE_LAYERS), _NO_JUMP_HINT),
                                 Rule(lambda v: any(b < a for a, b in zip(v, v[1:])),
                                      "The receptive field never shrinks from one layer to the next.")])],
    hints=["Keep two numbers as you go: rf and jump, both 1 at the input.",
           "Update rf with the jump before the layer, then multiply the jump by the stride."])


def _rf_list_diagnosis(reading: Reading, inputs: tuple) -> str | None:
    layers = [tuple(layer) for layer in inputs[0]]
    values = reading.value
    if len(values) != len(layers):
        return f"Return one receptive field per layer: {len(layers)} values for {len(layers)} layers."
    if _shortcut(values, layers):
        return _SHORTCUT_HINT
    if _no_jump(values, layers):
        return _NO_JUMP_HINT
    return None


receptive_fields = Question(
    ASSIGNMENT, "test_receptive_fields", "receptive_fields", "A function for the receptive field of every layer",
    prompt="receptive_fields(layers): for a list of (kernel, stride) pairs, the global receptive field after each layer.",
    parts=[FunctionPart(
        "receptive_fields", 2,
        examples=[Example(([(3, 1), (2, 2), (3, 1)],), [3, 4, 8], "receptive_fields([(3, 1), (2, 2), (3, 1)])")],
        reader=lambda v: read_numbers(v, "the receptive fields"), compare=lambda a, b: list(a) == list(b),
        diagnose=_rf_list_diagnosis, hidden_about="other networks, with strided layers",
        hidden_advice="Keep the jump from layer to layer: every stride multiplies it.")],
    hints=["rf, jump = 1, 1; for each layer: rf += (kernel - 1) * jump, then jump *= stride.",
           "Append rf after each layer and return the list."])
