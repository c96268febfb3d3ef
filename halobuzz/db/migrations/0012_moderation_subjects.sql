-- Owner: halobuzz.moderation (issue 16). Never edit once shipped.

-- Direct messages go through the same text moderation as room chat: a blocked DM is kept
-- (for the reviewer and an appeal) but never delivered; 'removed' = taken down on review.
ALTER TABLE dm_messages ADD COLUMN status TEXT NOT NULL DEFAULT 'delivered'
    CHECK (status IN ('delivered','blocked','removed'));

-- Decisions are looked up by their subject (the message, DM or image they judged).
CREATE INDEX moderation_decisions_subject ON moderation_decisions(subject_id);
