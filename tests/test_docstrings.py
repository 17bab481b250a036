"""Every public class, function and method has a valid numpydoc docstring."""

import inspect

import pytest

numpydoc_validate = pytest.importorskip("numpydoc.validate")

import skembrec  # noqa: E402
import skembrec.datasets  # noqa: E402
import skembrec.metrics  # noqa: E402
import skembrec.model_selection  # noqa: E402
import skembrec.plotting  # noqa: E402

# See Also, Examples and an extended summary are welcome but not required;
# RT02 asks for a bare type where scikit-learn's style names the value.
IGNORED = {"SA01", "EX01", "ES01", "RT02"}
# methods scikit-learn's base classes provide, documented there
INHERITED = {"get_params", "set_params", "score", "get_metadata_routing",
             "set_fit_request", "set_partial_fit_request", "set_score_request",
             "set_predict_request", "set_predict_proba_request"}


def _public_api():
    names = []
    modules = [(skembrec, [name for name in skembrec.__all__ if name != "__version__"]),
               (skembrec.metrics, skembrec.metrics.__all__),
               (skembrec.datasets, skembrec.datasets.__all__),
               (skembrec.model_selection, skembrec.model_selection.__all__),
               (skembrec.plotting, skembrec.plotting.__all__)]
    for module, public in modules:
        for name in public:
            obj = getattr(module, name)
            names.append(f"{module.__name__}.{name}")
            if not inspect.isclass(obj):
                continue
            for attr in dir(obj):
                if attr.startswith("_") or attr in INHERITED:
                    continue
                static = inspect.getattr_static(obj, attr)
                if isinstance(static, property) or not callable(getattr(obj, attr)):
                    continue
                names.append(f"{module.__name__}.{name}.{attr}")
    return names


@pytest.mark.parametrize("name", _public_api())
def test_numpydoc_validates(name):
    result = numpydoc_validate.validate(name)
    errors = [f"{code}: {message}" for code, message in result["errors"]
              if code not in IGNORED]
    assert not errors, "\n".join(errors)


def test_the_public_api_is_covered():
    names = _public_api()
    assert "skembrec.FunkMF.fit" in names and "skembrec.FunkMF.recommend" in names
    assert "skembrec.model_selection.TemporalProbeSplit.split" in names
    assert len(names) > 40
