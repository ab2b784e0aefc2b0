"""Every plotting function of the course, grouped by what it draws; all re-exported here (`plots.plot_run(r)`)."""
from __future__ import annotations

from .bars import plot_comparison, plot_finetuning, plot_keep_frequencies, plot_predictions, prediction_counts
from .capacity import plot_parameter_growth, plot_prune_effect
from .images import pixel_importance, plot_dreams, plot_importance_maps, plot_task_examples
from .matrices import plot_acc_matrix
from .playground import fisher_ellipse, penalty_view, plot_interference, plot_landscape, plot_penalty_paths
from .stages import plot_stage_bars
from .sweeps import plot_buffer_effect, plot_rank_curves, plot_rank_sweep, plot_sweep
from .tradeoff import plot_tradeoff_curves, plot_tradeoff_scatter
from .training import plot_curves, plot_run

__all__ = [
    "plot_comparison", "plot_finetuning", "plot_keep_frequencies", "plot_predictions", "prediction_counts", "pixel_importance", "plot_dreams",
    "plot_parameter_growth", "plot_prune_effect",
    "plot_importance_maps", "plot_task_examples", "plot_acc_matrix", "plot_buffer_effect", "plot_rank_curves",
    "plot_rank_sweep", "plot_sweep", "plot_curves", "plot_run", "plot_tradeoff_curves", "plot_tradeoff_scatter",
    "plot_rank_sweep", "plot_sweep", "plot_curves", "plot_run", "fisher_ellipse", "penalty_view",
    "plot_interference", "plot_landscape", "plot_penalty_paths", "plot_stage_bars",
]
