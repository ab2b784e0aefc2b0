"""The graded exercises of each chapter: the checker (module, name) and the student's function it checks.

The grader (cl_helpers.teaching.grading) reads this, so it works from an installed package without the
chapters' sources; tests/test_grading.py checks that it matches every `checker.check(function)` in
notebooks/src. The training-loop exercises (chapters 1, 3, 5, 6) are not here: they are checked as whole runs
against train_stream, not case by case.
"""
from __future__ import annotations

GRADED: dict[str, tuple[tuple[str, str, str], ...]] = {
    "02": (("ch02_metrics", "forgetting_exercise", "average_forgetting"),
           ("ch02_metrics", "bwt_exercise", "backward_transfer")),
    "03": (("ch03_ewc", "ewc_penalty_exercise", "ewc_penalty"),
           ("ch03_ewc", "empirical_fisher_exercise", "empirical_fisher")),
    "04": (("ch04_lora", "lora_forward_exercise", "lora_forward"),
           ("ch04_lora", "lora_params_exercise", "lora_trainable_params")),
    "05": (("ch05_replay", "reservoir_exercise", "reservoir_add"),),
    "06": (("ch06_si", "step_exercise", "si_step"),
           ("ch06_si", "consolidate_exercise", "si_consolidate"),
           ("ch06_si", "penalty_exercise", "si_penalty")),
    "07": (("ch07_generative", "replay_loss_exercise", "replay_loss"),),
    "09": (("ch09_interpolation", "interpolation_exercise", "interpolate_model"),),
}
