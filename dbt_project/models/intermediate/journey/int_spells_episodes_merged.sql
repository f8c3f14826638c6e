-- Spells from episodes (spell_role 'episode_start' / 'episode_end' on the same source row, the youth
-- office's help episodes): overlapping or adjacent episodes of a person in one city and legal circle form
-- one spell (taking into care, then guardianship and educational support, then help for young adults).

-- Per-person incremental (macros/person_incremental.sql): a monthly build rebuilds the changed persons only.
{{ person_incremental_model() }}

with

episode_events as (

    select * from {{ ref('int_events_with_person') }}
    where spell_role in ('episode_start', 'episode_end')
        and {{ for_changed_persons() }}

),

episodes as (

    select
        person_key,
        source_agency,
        city,
        event_ref,
        max(case when spell_role = 'episode_start' then legal_circle end) as legal_circle,
        min(case when spell_role = 'episode_start' then event_date end) as episode_start,
        max(case when spell_role = 'episode_end' then event_date end) as episode_end,
        max(case when spell_role = 'episode_end' then detail end) as end_detail,
        {{ dbt.bool_or('is_unaccompanied') }} as is_unaccompanied
    from episode_events
    group by person_key, source_agency, city, event_ref

),

-- an episode continues the spell while it starts no later than the day after every earlier episode ended
ordered as (

    select
        *,
        max(coalesce(episode_end, {{ open_end_date() }})) over (
            partition by person_key, source_agency, city, legal_circle
            order by episode_start, event_ref
            rows between unbounded preceding and 1 preceding
        ) as earlier_end
    from episodes
    where episode_start is not null

),

numbered as (

    select
        *,
        sum(
            case
                when earlier_end is null
                    or episode_start > {{ dbt.dateadd('day', 1, 'earlier_end') }}
                    then 1
                else 0
            end
        ) over (
            partition by person_key, source_agency, city, legal_circle
            order by episode_start, event_ref
            rows between unbounded preceding and current row
        ) as spell_number
    from ordered

),

-- the follow-up of a spell is the follow-up of the episode that ended last
last_endings as (

    select
        *,
        row_number() over (
            partition by person_key, source_agency, city, legal_circle, spell_number
            order by coalesce(episode_end, {{ open_end_date() }}) desc, event_ref desc
        ) as ending_rank
    from numbered

),

spells as (

    select
        person_key,
        source_agency,
        legal_circle,
        city,
        spell_number,
        min(episode_start) as spell_start,
        max(coalesce(episode_end, {{ open_end_date() }})) as spell_end_or_open,
        {{ dbt.bool_or('is_unaccompanied') }} as is_unaccompanied
    from numbered
    group by person_key, source_agency, legal_circle, city, spell_number

),

final as (

    select
        spells.person_key,
        spells.source_agency,
        spells.legal_circle,
        spells.city,
        spells.spell_start,
        case
            when spells.spell_end_or_open < {{ open_end_date() }} then spells.spell_end_or_open
        end as spell_end,
        case
            when spells.spell_end_or_open < {{ open_end_date() }} then last_endings.end_detail
        end as end_detail,
        spells.is_unaccompanied
    from spells
    inner join last_endings
        on spells.person_key = last_endings.person_key
        and spells.source_agency = last_endings.source_agency
        and spells.legal_circle = last_endings.legal_circle
        and spells.city = last_endings.city
        and spells.spell_number = last_endings.spell_number
        and last_endings.ending_rank = 1

)

select * from final
