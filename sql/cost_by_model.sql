-- Cost by model over a traces store, as `traces cost --by model --format json` gives its
-- rows (model and the same fields), to the last digit. Plain SQL that DuckDB, Spark SQL,
-- Trino and Athena run as it is, over two views the caller defines (README, "When one
-- machine is not enough"):
--   calls   the store's calls tables, <store>/calls/**/*.parquet
--   prices  `traces pricing export --format parquet`
-- Money is DECIMAL throughout: rates are DECIMAL(25,24) USD per token, a call's cost is
-- summed from its classes as DECIMAL(29,24) each (under $100,000 a class and 10^12
-- tokens a call: past that the casts fail rather than round), a group's as
-- DECIMAL(38,24).
WITH stored AS (
    -- Each row once: a file the manifest no longer names (replaced by `traces store
    -- compact`, which keeps each row's segment, and removed by the next import) repeats
    -- rows of the merged table.
    SELECT *
    FROM (SELECT c.*, ROW_NUMBER() OVER (PARTITION BY c.segment, c.trace_id, c.span_id
                                         ORDER BY c.segment) AS copy_number
          FROM calls c) d
    WHERE copy_number = 1
),
counted AS (
    -- A trace touched by several imports counts from the newest one's table, which
    -- attributed all of its spans; a row without a span id only marks that.
    SELECT *
    FROM (SELECT c.*, MAX(c.segment) OVER (PARTITION BY c.trace_id) AS newest_segment
          FROM stored c) n
    WHERE calls_without_usage IS NULL AND segment = newest_segment
),
clamped AS (
    -- As traces bills a call (Billable::of): no count below 0, and no part of the input
    -- (cache reads, then cache writes, audio, images) or of the output (reasoning,
    -- audio) above what is left of its whole.
    SELECT COALESCE(response_model, request_model) AS group_key,
           trace_id,
           start_time_unix_nano AS start_ns,
           price_id,
           price_fallback,
           LOWER(service_tier) AS tier,
           recorded_cost_usd_text,
           COALESCE(input_tokens, 0) AS input_tokens,
           COALESCE(cache_read_tokens, 0) AS cache_read_tokens,
           COALESCE(cache_write_tokens, 0) AS cache_write_tokens,
           COALESCE(output_tokens, 0) AS output_tokens,
           COALESCE(reasoning_tokens, 0) AS reasoning_tokens,
           GREATEST(COALESCE(input_tokens, 0), 0) AS prompt,
           LEAST(GREATEST(COALESCE(cache_read_tokens, 0), 0),
                 GREATEST(COALESCE(input_tokens, 0), 0)) AS b_cache_read,
           GREATEST(COALESCE(cache_write_tokens, 0), 0) AS raw_cache_write,
           GREATEST(COALESCE(cache_write_1h_tokens, 0), 0) AS raw_cache_write_1h,
           GREATEST(COALESCE(audio_input_tokens, 0), 0) AS raw_audio_input,
           GREATEST(COALESCE(image_input_tokens, 0), 0) AS raw_image_input,
           GREATEST(COALESCE(output_tokens, 0), 0) AS b_output_all,
           LEAST(GREATEST(COALESCE(reasoning_tokens, 0), 0),
                 GREATEST(COALESCE(output_tokens, 0), 0)) AS b_reasoning,
           GREATEST(COALESCE(audio_output_tokens, 0), 0) AS raw_audio_output
    FROM counted
),
writes AS (
    SELECT clamped.*,
           LEAST(raw_cache_write, prompt - b_cache_read) AS b_writes,
           LEAST(raw_audio_output, b_output_all - b_reasoning) AS b_audio_output
    FROM clamped
),
parts AS (
    SELECT writes.*,
           LEAST(raw_cache_write_1h, b_writes) AS b_cache_write_1h,
           LEAST(raw_audio_input, prompt - b_cache_read - b_writes) AS b_audio_input
    FROM writes
),
billable AS (
    SELECT parts.*,
           LEAST(raw_image_input, prompt - b_cache_read - b_writes - b_audio_input)
               AS b_image_input
    FROM parts
),
priced AS (
    -- The row of the call's entry, price period (its start) and long-context bracket
    -- (its whole prompt): its service tier's where the period lists that tier, else the
    -- standard one. Open bounds are COALESCEd to constants, not ORed, so that engines join on
    -- price_id by hash and not row by row.
    SELECT b.*,
           CASE WHEN t.price_id IS NOT NULL THEN t.input_usd_per_token ELSE s.input_usd_per_token END AS r_input,
           CASE WHEN t.price_id IS NOT NULL THEN t.cache_read_usd_per_token ELSE s.cache_read_usd_per_token END AS r_cache_read,
           CASE WHEN t.price_id IS NOT NULL THEN t.cache_write_5m_usd_per_token ELSE s.cache_write_5m_usd_per_token END AS r_cache_write_5m,
           CASE WHEN t.price_id IS NOT NULL THEN t.cache_write_1h_usd_per_token ELSE s.cache_write_1h_usd_per_token END AS r_cache_write_1h,
           CASE WHEN t.price_id IS NOT NULL THEN t.input_audio_usd_per_token ELSE s.input_audio_usd_per_token END AS r_input_audio,
           CASE WHEN t.price_id IS NOT NULL THEN t.input_image_usd_per_token ELSE s.input_image_usd_per_token END AS r_input_image,
           CASE WHEN t.price_id IS NOT NULL THEN t.output_usd_per_token ELSE s.output_usd_per_token END AS r_output,
           CASE WHEN t.price_id IS NOT NULL THEN t.reasoning_usd_per_token ELSE s.reasoning_usd_per_token END AS r_reasoning,
           CASE WHEN t.price_id IS NOT NULL THEN t.output_audio_usd_per_token ELSE s.output_audio_usd_per_token END AS r_output_audio
    FROM billable b
    LEFT JOIN prices t
      ON t.price_id = b.price_id AND t.service_tier = b.tier
     AND b.start_ns >= COALESCE(t.valid_from_unix_nano, -9223372036854775807)
     AND b.start_ns < COALESCE(t.valid_to_unix_nano, 9223372036854775807)
     AND b.prompt > COALESCE(t.above_input_tokens, -1)
     AND b.prompt <= COALESCE(t.up_to_input_tokens, 9223372036854775807)
    LEFT JOIN prices s
      ON s.price_id = b.price_id AND s.service_tier IS NULL
     AND b.start_ns >= COALESCE(s.valid_from_unix_nano, -9223372036854775807)
     AND b.start_ns < COALESCE(s.valid_to_unix_nano, 9223372036854775807)
     AND b.prompt > COALESCE(s.above_input_tokens, -1)
     AND b.prompt <= COALESCE(s.up_to_input_tokens, 9223372036854775807)
),
costed AS (
    SELECT priced.*,
           r_input IS NOT NULL AS is_priced,
           CAST(CAST(prompt - b_cache_read - b_writes - b_audio_input - b_image_input AS DECIMAL(12, 0)) * r_input AS DECIMAL(29, 24))
         + CAST(CAST(b_cache_read AS DECIMAL(12, 0)) * r_cache_read AS DECIMAL(29, 24))
         + CAST(CAST(b_writes - b_cache_write_1h AS DECIMAL(12, 0)) * r_cache_write_5m AS DECIMAL(29, 24))
         + CAST(CAST(b_cache_write_1h AS DECIMAL(12, 0)) * r_cache_write_1h AS DECIMAL(29, 24))
         + CAST(CAST(b_audio_input AS DECIMAL(12, 0)) * r_input_audio AS DECIMAL(29, 24))
         + CAST(CAST(b_image_input AS DECIMAL(12, 0)) * r_input_image AS DECIMAL(29, 24))
         + CAST(CAST(b_output_all - b_reasoning - b_audio_output AS DECIMAL(12, 0)) * r_output AS DECIMAL(29, 24))
         + CAST(CAST(b_reasoning AS DECIMAL(12, 0)) * r_reasoning AS DECIMAL(29, 24))
         + CAST(CAST(b_audio_output AS DECIMAL(12, 0)) * r_output_audio AS DECIMAL(29, 24)) AS cost
    FROM priced
)
SELECT group_key AS model,
       COUNT(DISTINCT trace_id) AS traces,
       COUNT(*) AS calls,
       SUM(input_tokens) AS input_tokens,
       SUM(cache_read_tokens) AS cache_read_tokens,
       SUM(cache_write_tokens) AS cache_write_tokens,
       SUM(output_tokens) AS output_tokens,
       SUM(reasoning_tokens) AS reasoning_tokens,
       SUM(input_tokens) + SUM(output_tokens) AS total_tokens,
       -- Unpriced calls add nothing here and are counted below, never priced at $0.
       COALESCE(SUM(cost), CAST(0 AS DECIMAL(38, 24))) AS cost_usd,
       SUM(CAST(recorded_cost_usd_text AS DECIMAL(38, 20))) AS recorded_cost_usd,
       SUM(CASE WHEN is_priced THEN 0 ELSE 1 END) AS unpriced_calls,
       SUM(CASE WHEN is_priced AND price_fallback THEN 1 ELSE 0 END) AS fallback_priced_calls
FROM costed
GROUP BY group_key
ORDER BY cost_usd DESC, model
