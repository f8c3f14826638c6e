-- All spells of all persons, whatever rule formed them, with the extras the KPIs need.

-- Per-person incremental (macros/person_incremental.sql): a monthly build rebuilds the changed persons only.
{{ person_incremental_model() }}

with

status_spells as (

    select * from {{ ref('int_spells_status_sequenced') }}
    where {{ for_changed_persons() }}

),

entry_exit_spells as (

    select * from {{ ref('int_spells_entry_exit_paired') }}
    where {{ for_changed_persons() }}

),

episode_spells as (

    select * from {{ ref('int_spells_episodes_merged') }}
    where {{ for_changed_persons() }}

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
