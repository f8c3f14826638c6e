-- All spells of all persons, whatever rule formed them, with the extras the KPIs need.

with

status_spells as (

    select * from {{ ref('int_spells_status_sequenced') }}

),

entry_exit_spells as (

    select * from {{ ref('int_spells_entry_exit_paired') }}

),

episode_spells as (

    select * from {{ ref('int_spells_episodes_merged') }}

),

unioned as (

    select * from status_spells
    union all
    select * from entry_exit_spells
    union all
    select * from episode_spells

),

final as (

    select
        {{ surrogate_key(['person_key', 'source_agency', 'legal_circle', 'city', 'spell_start']) }} as spell_key,
        person_key,
        source_agency,
        legal_circle,
        city,
        spell_start,
        spell_end,
        end_detail,
        is_unaccompanied
    from unioned

)

select * from final
