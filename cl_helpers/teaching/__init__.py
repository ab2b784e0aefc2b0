"""What teaches rather than computes: the chapters' set-up, sliders, exercises and their checkers, quizzes."""
