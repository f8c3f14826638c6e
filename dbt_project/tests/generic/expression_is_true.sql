{#- Every row of the model satisfies a boolean SQL expression; fails with the rows that don't. -#}
{% test expression_is_true(model, expression) %}

    select *
    from {{ model }}
    where not ({{ expression }})

{% endtest %}
