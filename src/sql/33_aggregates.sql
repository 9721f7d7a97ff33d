--
-- The aggregates gridflow.peak_pit(), gridflow.exact_sum() and
-- gridflow.exact_sum_partials() (src/aggregates.c).  Their transition
-- states are bytea, not internal: PostgreSQL's parallel workers hand them
-- on as they are, and Citus, which combines partial aggregates only of
-- states of a real type, ships them between workers and the coordinator
-- through bytea's own input and output.  Combining is exact: partial exact
-- sums keep their partials, so a sum combined from parts is bit for bit
-- the sum of the whole.  The functions refuse a bytea that is not a state
-- of theirs, and run only inside an aggregate.  (The update from 0.2.0
-- drops the aggregates of internal state first.)
--

--
-- Peak and pit of (value, timestamp) pairs (the result type gridflow.peak_pit:
-- 30_functions.sql).
--
CREATE FUNCTION gridflow.peak_pit_transfn(bytea, double precision, timestamptz)
RETURNS bytea
AS 'MODULE_PATHNAME', 'gridflow_peak_pit_state_transfn'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION gridflow.peak_pit_transfn(bytea, double precision, timestamptz) IS 'Transition function of gridflow.peak_pit(); its state is a bytea of its own making';

CREATE FUNCTION gridflow.peak_pit_combinefn(bytea, bytea)
RETURNS bytea
AS 'MODULE_PATHNAME', 'gridflow_peak_pit_state_combinefn'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION gridflow.peak_pit_combinefn(bytea, bytea) IS 'Combine function of gridflow.peak_pit() (parallel, partial and distributed aggregation)';

CREATE FUNCTION gridflow.peak_pit_finalfn(bytea)
RETURNS gridflow.peak_pit
AS 'MODULE_PATHNAME', 'gridflow_peak_pit_finalfn'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION gridflow.peak_pit_finalfn(bytea) IS 'Final function of gridflow.peak_pit()';

CREATE AGGREGATE gridflow.peak_pit(double precision, timestamptz) (
    SFUNC = gridflow.peak_pit_transfn,
    STYPE = bytea,
    SSPACE = 48,
    COMBINEFUNC = gridflow.peak_pit_combinefn,
    FINALFUNC = gridflow.peak_pit_finalfn,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE gridflow.peak_pit(double precision, timestamptz) IS 'Peak and pit of (value, timestamp) pairs: largest and smallest value, each with the earliest timestamp holding it; NULL values are ignored; NULL when there is no value';

--
-- Exact sum of doubles: the correctly rounded sum whatever the order of the
-- terms, so that parallel plans, Citus' partial aggregates and the build's
-- own aggregation agree to the last bit.
--
CREATE FUNCTION gridflow.exact_sum_transfn(bytea, double precision)
RETURNS bytea
AS 'MODULE_PATHNAME', 'gridflow_exact_sum_state_transfn'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION gridflow.exact_sum_transfn(bytea, double precision) IS 'Transition function of gridflow.exact_sum() and gridflow.exact_sum_partials(); its state is a bytea of its own making';

CREATE FUNCTION gridflow.exact_sum_combinefn(bytea, bytea)
RETURNS bytea
AS 'MODULE_PATHNAME', 'gridflow_exact_sum_state_combinefn'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION gridflow.exact_sum_combinefn(bytea, bytea) IS 'Combine function of gridflow.exact_sum() and gridflow.exact_sum_partials(): adds the partial sums of one state to the other exactly (parallel, partial and distributed aggregation)';

CREATE FUNCTION gridflow.exact_sum_finalfn(bytea)
RETURNS double precision
AS 'MODULE_PATHNAME', 'gridflow_exact_sum_finalfn'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION gridflow.exact_sum_finalfn(bytea) IS 'Final function of gridflow.exact_sum()';

CREATE AGGREGATE gridflow.exact_sum(double precision) (
    SFUNC = gridflow.exact_sum_transfn,
    STYPE = bytea,
    SSPACE = 80,
    COMBINEFUNC = gridflow.exact_sum_combinefn,
    FINALFUNC = gridflow.exact_sum_finalfn,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE gridflow.exact_sum(double precision) IS 'Sum of double precision values, exact and then correctly rounded, so independent of the order of the rows (unlike sum()); NULLs are ignored; NULL when there is no value';

-- exact sums that can be stored and combined later without a second rounding
CREATE FUNCTION gridflow.exact_sum_partials_finalfn(bytea)
RETURNS double precision[]
AS 'MODULE_PATHNAME', 'gridflow_exact_sum_partials_finalfn'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION gridflow.exact_sum_partials_finalfn(bytea) IS 'Final function of gridflow.exact_sum_partials()';

CREATE AGGREGATE gridflow.exact_sum_partials(double precision) (
    SFUNC = gridflow.exact_sum_transfn,
    STYPE = bytea,
    SSPACE = 80,
    COMBINEFUNC = gridflow.exact_sum_combinefn,
    FINALFUNC = gridflow.exact_sum_partials_finalfn,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE gridflow.exact_sum_partials(double precision) IS 'The exact sum of double precision values as non-overlapping partial sums (an array whose exact sum is the exact sum of the values): stored, such arrays combine later without a second rounding, gridflow.exact_sum() over the elements of several arrays being the correctly rounded sum of all their values; NULL when there is no value';
