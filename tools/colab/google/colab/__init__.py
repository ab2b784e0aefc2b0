"""A stand-in for Colab's `google.colab` package, used by `make test-colab` (tools/colab/run.sh).

Colab's kernel imports google.colab at start-up; the chapters' set-up cell and
`cl_helpers.teaching.course.in_colab()` only ask whether it is in sys.modules. The calls a notebook might
make (`output.enable_custom_widget_manager()`) do nothing here.
"""
from . import output

__all__ = ["output"]
