{#-
    Age band at a date from the birth year (the warehouse keeps only the year of birth): the age the person
    reaches in the calendar year of the date. 'unbekannt' when the birth year is missing.
-#}
{% macro age_band(birth_year, on_date) -%}
    case
        when {{ birth_year }} is null or {{ on_date }} is null then 'unbekannt'
        when {{ year_of(on_date) }} - {{ birth_year }} < 18 then '0-17'
        when {{ year_of(on_date) }} - {{ birth_year }} < 25 then '18-24'
        when {{ year_of(on_date) }} - {{ birth_year }} < 35 then '25-34'
        when {{ year_of(on_date) }} - {{ birth_year }} < 50 then '35-49'
        else '50+'
    end
{%- endmacro %}
