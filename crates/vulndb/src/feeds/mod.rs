//! Feeds: placeholder module, filled by the feed parsers.
