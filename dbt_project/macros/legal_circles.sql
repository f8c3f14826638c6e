{#-
    The legal circles (Rechtskreise) of the code lists (seeds event_types, abh_residence_status,
    jobcenter_event_codes), in the order of the KPIs' accepted values ('Arbeit' opens no spell today).
    int_stock_person_months keeps a person's circles as bits in this order, and fails on a spell whose
    circle is not listed here, so a new circle cannot silently drop out of the stock KPIs: adding one to
    the code lists means adding it here.
-#}
{% macro legal_circles() -%}
    {{ return(['AsylbLG', 'AufenthG', 'SGB II', 'SGB VIII', 'Arbeit']) }}
{%- endmacro %}
