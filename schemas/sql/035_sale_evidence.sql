-- A sale's screenshot (sale_claims.evidence_sha256, bytes in media_blobs) is evidence of a counted
-- item: core/media keeps bytes a sale still points at, and looks them up by this index.
ALTER TABLE sale_claims ADD KEY idx_claim_evidence (evidence_sha256);
