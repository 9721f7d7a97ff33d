--
-- A shard's stage of reads (70_distribute.sql has the rest of the shards'
-- tables): the columns of gridflow_store.interval_read, in its order, so
-- that it is made again whenever the reads change shape (the update from
-- 0.2.0 drops it and appends this file).
--
CREATE TABLE gridflow.shard_stage_read (LIKE gridflow_store.interval_read);
COMMENT ON TABLE gridflow.shard_stage_read IS 'Standardized reads of a utility split by hash, on their way to the shard that builds them (on a coordinator: read there, then routed; on a shard: received, then built); written by the owner of gridflow only, emptied when a build starts; empty outside a build';
-- written by the owner of gridflow only (see 70_distribute.sql)
REVOKE ALL ON gridflow.shard_stage_read FROM gridflow_pipeline;
