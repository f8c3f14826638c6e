{#-
    The combination of the given columns is unique in the model (dbt_utils' unique_combination_of_columns,
    which is not available here). Fails with one row per duplicated combination.
-#}
{% test unique_combination(model, combination_of_columns) %}

    select
        {{ combination_of_columns | join(', ') }},
        count(*) as rows_with_this_combination
    from {{ model }}
    group by {{ combination_of_columns | join(', ') }}
    having count(*) > 1

{% endtest %}
