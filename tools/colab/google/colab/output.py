"""Stand-in for google.colab.output: the widget-manager switches are no-ops outside Colab."""


def enable_custom_widget_manager() -> None:
    """Colab: allow third-party widgets. Here: nothing (the course uses core widgets only)."""


def disable_custom_widget_manager() -> None:
    """Colab: back to core widgets only. Here: nothing."""
