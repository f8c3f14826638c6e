{#-
    The legal circles (Rechtskreise) a spell can be in, in the order the KPIs list them. int_stock_person_months
    keeps a person's circles as bits in this order, and fails on a circle that is not listed here, so a new
    circle cannot silently drop out of the stock KPIs.
-#}
{% macro legal_circles() -%}
    {{ return(['AsylbLG', 'AufenthG', 'SGB II', 'SGB VIII', 'Arbeit']) }}
{%- endmacro %}
