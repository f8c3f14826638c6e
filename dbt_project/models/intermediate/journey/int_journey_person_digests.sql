-- Per person, a 64-bit digest of every column of every event row in int_events_with_person, and the
-- number of rows. The per-person models are functions of these rows alone, so a person whose digest is
-- unchanged since the last successful build needs no rebuild (macros/person_incremental.sql). event_key is
-- unique, so no two rows of a person are equal and xor cannot cancel them out.

{%- set events = ref('int_events_with_person') %}
{%- set columns = adapter.get_columns_in_relation(events) | map(attribute='name') | list if execute else ['person_key'] %}

with

events as (

    select * from {{ events }}

),

final as (

    select
        person_key,
        bit_xor(hash({{ columns | join(', ') }})) as digest,
        count(*) as events
    from events
    group by person_key

)

select * from final
