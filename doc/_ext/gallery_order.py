"""Order of the gallery: from using the estimators to studying the landscape."""

ORDER = [
    "plot_choosing_alpha.py",
    "plot_model_comparison.py",
    "plot_regularization_path.py",
    "plot_certificate.py",
    "plot_optimal_set.py",
    "plot_landscape.py",
]


class ExampleOrder:
    """``within_subsection_order`` key: the examples of ``ORDER`` first, in that order, then the rest."""

    def __init__(self, src_dir):
        self.src_dir = src_dir

    def __call__(self, filename):
        return (ORDER.index(filename), filename) if filename in ORDER else (len(ORDER), filename)

    def __repr__(self):
        return f"ExampleOrder({ORDER})"
