{#-
    Rows of `relation` ranked per `key` by delivery: rank 1 is the version from the latest delivery month.
    An agency re-sends a record (same record id, so the same keyed reference) in a later month to correct
    it; the later version replaces the earlier one. A record sent twice in one file: the later row wins.
    The caller keeps `where delivery_rank = 1`.

    Only keys that occur more than once are ranked; the others (97 % of the rows at 1,000,000 persons) are
    rank 1 without a window over them. Ranking every row cost 4.7-5.2 s against 4.1-4.3 s for the immigration
    office's staging model there, of which 3.3 s is writing the table.
-#}
{% macro keep_latest_delivery(relation, key) -%}
    -- anti and semi join, not (not) in: a null key never matches, so null keys reach the not_null tests
    with repeated_keys as (
        select {{ key }} from {{ relation }} group by {{ key }} having count(*) > 1
    )

    select *, 1 as delivery_rank
    from {{ relation }} anti join repeated_keys using ({{ key }})

    union all

    select
        *,
        row_number() over (
            partition by {{ key }}
            order by delivery_month desc, delivery_id desc, source_row desc
        ) as delivery_rank
    from {{ relation }} semi join repeated_keys using ({{ key }})
{%- endmacro %}
