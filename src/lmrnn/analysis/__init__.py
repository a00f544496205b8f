"""What trained networks do: task variance and clusters, the autapse mechanism, graphs, weights,
activity, fixed points and psychometric curves.

Public API::

    from lmrnn.analysis import task_variance, cluster_units, analyze
    tv = task_variance(model, collection)              # unit x task matrix (Yang et al. 2019)
    clusters = cluster_units(tv.normalized, "ward")    # best-silhouette cut; or "kmeans"
    classes = split_autapses(autapse_weights(model))   # near-0 / near-1 autapses (d = 0)
    ablation = ablation_study(model, collection, classes)   # Fig 3g
    addition = vector_addition(model, collection, classes)  # Fig 3h
    geometry = input_geometry(weight_ih, collection)         # Fig 3c-e
    activity = record("runs/demo", tasks=["go", "dm1"])   # hidden states, inputs, conditions
    activity.save("activity.npz")                          # one file numpy and pandas open
    fps = fixed_points("runs/demo")                      # per task's rule input, classified
    curves = psychometric("runs/demo")                   # DM tasks: logistic with lapse fits
    report = analyze("runs/demo", "clusters")           # JSON + PNG, as `lmrnn analyze`

Depends on :mod:`lmrnn.tasks`, :mod:`lmrnn.models`, :mod:`lmrnn.graphs` and :mod:`lmrnn.train`;
only the command line imports it. Figures live in :mod:`lmrnn.analysis.pictures`.
"""

from lmrnn.analysis.activity import TRIAL_COLUMNS, Activity, record
from lmrnn.analysis.autapse import (
    ABLATION_MODES,
    ADDITION_MODES,
    Ablation,
    AutapseClasses,
    VectorAddition,
    ablate,
    ablation_study,
    added_logits,
    autapse_weights,
    chance_levels,
    check_autapse_pool,
    split_autapses,
    task_accuracy,
    vector_addition,
)
from lmrnn.analysis.clustering import (
    LINKAGE_METHODS,
    MAX_CLUSTERS,
    METHODS,
    NEAR_BEST,
    Clustering,
    cluster_units,
    heatmap_order,
    hierarchical_partitions,
    kmeans_partitions,
)
from lmrnn.analysis.common import single_network, write_json
from lmrnn.analysis.decisions import (
    LogisticFit,
    Psychometric,
    PsychometricCurve,
    choices,
    fit_logistic,
    logistic_with_lapse,
    psychometric,
)
from lmrnn.analysis.dynamics import (
    FixedPoints,
    NetworkFixedPoints,
    find_fixed_points,
    fixed_points,
    input_drive,
    network_step,
    rule_input,
)
from lmrnn.analysis.inputs import InputGeometry, circulant_fraction, cosine_matrix, input_geometry
from lmrnn.analysis.run import WHATS, Report, analyze
from lmrnn.analysis.variance import (
    TaskVariance,
    after_fixation,
    task_variance,
    trial_variance,
    variance_matrix,
)
from lmrnn.analysis.weights import (
    LatticeActivity,
    LatticeWeights,
    lattice_activity,
    recurrent_on_lattice,
)

__all__ = [
    "ABLATION_MODES",
    "ADDITION_MODES",
    "LINKAGE_METHODS",
    "MAX_CLUSTERS",
    "METHODS",
    "NEAR_BEST",
    "TRIAL_COLUMNS",
    "WHATS",
    "Ablation",
    "Activity",
    "AutapseClasses",
    "Clustering",
    "FixedPoints",
    "InputGeometry",
    "LatticeActivity",
    "LatticeWeights",
    "LogisticFit",
    "NetworkFixedPoints",
    "Psychometric",
    "PsychometricCurve",
    "Report",
    "TaskVariance",
    "VectorAddition",
    "ablate",
    "ablation_study",
    "added_logits",
    "after_fixation",
    "analyze",
    "autapse_weights",
    "chance_levels",
    "check_autapse_pool",
    "choices",
    "circulant_fraction",
    "cluster_units",
    "cosine_matrix",
    "find_fixed_points",
    "fit_logistic",
    "fixed_points",
    "heatmap_order",
    "hierarchical_partitions",
    "input_drive",
    "input_geometry",
    "kmeans_partitions",
    "lattice_activity",
    "logistic_with_lapse",
    "network_step",
    "psychometric",
    "record",
    "recurrent_on_lattice",
    "rule_input",
    "single_network",
    "split_autapses",
    "task_accuracy",
    "task_variance",
    "trial_variance",
    "variance_matrix",
    "vector_addition",
    "write_json",
]
