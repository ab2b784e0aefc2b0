"""Chapter 9's exercise A (interpolating two models): the reference passes, each classic mistake is named."""
import copy

import torch

from cl_helpers.teaching.exercises.ch09_interpolation import MISTAKES, interpolation_exercise, reference_interpolate_model


def test_the_reference_passes_every_case():
    assert interpolation_exercise.run(reference_interpolate_model).ok


def test_each_mistake_fails_with_its_own_explanation():
    factors, params_only, reversed_ = MISTAKES.items()
    names = [c.name for c in interpolation_exercise._cases()]   # two BatchNorm pairs, then the LoRA pair
    expected = {  # mistake -> the label each failing case must give (None: that case cannot tell, it passes)
        factors[0]: [None, None, factors[0]],
        # on a LoRA pair every entry is a parameter: blending only parameters IS blending the factors
        params_only[0]: [params_only[0], params_only[0], factors[0]],
        reversed_[0]: [reversed_[0], reversed_[0], None],      # a = 0.5 is the same from both ends
    }
    for label, wrong in MISTAKES.items():
        report = interpolation_exercise.run(wrong)
        for name, want in zip(names, expected[label]):
            msgs = [m for m in report.failed if m.startswith(name)]
            assert (want is None and name in report.passed) or (len(msgs) == 1 and want in msgs[0]), (label, name)


def test_a_state_dict_instead_of_a_model_is_one_clear_line_per_case():
    report = interpolation_exercise.run(lambda before, after, a: before.state_dict())
    assert len(report.failed) == interpolation_exercise.n_cases
    assert all("must return an nn.Module" in msg for msg in report.failed)


def test_the_inputs_are_not_changed_by_a_student_that_writes_into_them():
    def in_place(before, after, a):
        with torch.no_grad():
            for p in before.parameters():
                p.mul_(0)
        return reference_interpolate_model(before, after, a)

    # the checker hands the student copies: zeroing them must not change what the reference saw
    report = interpolation_exercise.run(in_place)
    assert not report.ok
    case = interpolation_exercise._cases()[0]
    before = copy.deepcopy(case.args[0])
    interpolation_exercise.run(in_place)
    assert all(torch.equal(p, q) for p, q in zip(before.parameters(), case.args[0].parameters()))
