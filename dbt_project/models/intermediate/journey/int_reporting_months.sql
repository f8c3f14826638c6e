-- The months the KPIs report on: from the month of the earliest event to the latest delivery month.
-- Project var `reporting_first_month` ('YYYY-MM-01') can move the start later, e.g. when an initial load
-- carries decades of residence history that no KPI needs month by month.

{%- set reporting_first_month = var('reporting_first_month', none) %}

with

events as (

    select * from {{ ref('int_events_with_person') }}

),

bounds as (

    select
        {%- if reporting_first_month %}
        greatest(
            cast({{ dbt.date_trunc('month', 'min(event_date)') }} as date),
            cast('{{ reporting_first_month }}' as date)
        ) as first_month,
        {%- else %}
        cast({{ dbt.date_trunc('month', 'min(event_date)') }} as date) as first_month,
        {%- endif %}
        {{ month_text_to_date('max(delivery_month)') }} as last_month
    from events

),

months as (

    {{ month_spine('bounds', 'first_month', 'last_month') }}

),

final as (

    select
        month,
        {{ month_end('month') }} as month_end
    from months

)

select * from final
