-- template tags and run details for the Inspector API.

-- The rules package ARNs a template was created with through the Inspector
-- API, exactly as given (JSON [ARN]); `packages` keeps Warden's package ids.
-- NULL for templates made through the fleet's own API: they are described
-- with the catalogue's ARN of each package.
ALTER TABLE templates ADD COLUMN rules_package_arns TEXT;

-- SetTagsForResource / ListTagsForResource: a template's tags, in the order
-- they were set (the whole set is replaced at once).
CREATE TABLE template_tags (
    template_id  TEXT NOT NULL REFERENCES templates (id) ON DELETE CASCADE,
    position     INTEGER NOT NULL,
    key          TEXT NOT NULL,
    value        TEXT,
    PRIMARY KEY (template_id, position)
) WITHOUT ROWID;

-- ListAssessmentRuns pages newest first with the keyset (created_at, id),
-- over all runs or per template; DescribeAssessmentTemplates reads a
-- template's run count and newest run from the second index too.
CREATE INDEX runs_created ON runs (created_at, id);
CREATE INDEX runs_template_created ON runs (template_id, created_at, id);
