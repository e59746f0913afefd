"""Analysis of trained networks; import submodules explicitly (plotting lives in visualization/ and animations/)."""
