{#-
    Rows of `relation` ranked per `key` by delivery: rank 1 is the version from the latest delivery month.
    An agency re-sends a record (same record id, so the same keyed reference) in a later month to correct
    it; the later version replaces the earlier one. A record sent twice in one file: the later row wins.
    The caller keeps `where delivery_rank = 1`.
-#}
{% macro keep_latest_delivery(relation, key) -%}
    select
        *,
        row_number() over (
            partition by {{ key }}
            order by delivery_month desc, delivery_id desc, source_row desc
        ) as delivery_rank
    from {{ relation }}
{%- endmacro %}
