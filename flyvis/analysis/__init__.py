"""Analysis of trained networks; import submodules explicitly (plotting lives in visualization/ and animations/)."""

# registers the ``.custom`` accessor on xarray objects (needs only xarray)
from flyvis.analysis import xarray_accessor  # noqa: E402, F401
