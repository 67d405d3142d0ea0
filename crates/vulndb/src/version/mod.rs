//! Version ordering: placeholder module, filled by the version comparators.
