"""The REST client, split into one mixin per endpoint group.

``ApiClient`` combines: ``UsersMixin`` (users/@me, guilds, gateway), ``ChannelsMixin``
(channels, channel permissions), ``MembersMixin`` (members, roles), ``MessagesMixin`` (guild
messages, DMs, interactions, setting guides), ``OpenMessagesMixin`` (group/C2C messages,
media, recall), ``GuildAdminMixin`` (mute, announces, pins, schedules),
``ReactionsAudioMixin`` (reactions, audio, mic), ``ForumMixin`` (threads, API permissions)
and ``SendMixin`` (``send``/``reply`` for any scene).

qg-botsdk 3.x method → ``ApiClient`` method:

=================================  =============================================================
get_bot_info                       get_me
get_bot_guilds                     get_me_guilds / iter_me_guilds
get_guild_info                     get_guild
get_guild_channels                 get_channels
get_channels_info                  get_channel
create_channels / patch_channels   create_channel / patch_channel
delete_channels                    delete_channel
get_online_nums                    get_online_nums
get_voice_members                  get_voice_members
get_guild_members                  get_members / iter_members
get_role_members                   get_role_members / iter_role_members
get_member_info / delete_member    get_member / delete_member
get_guild_roles                    get_roles
create_role / patch_role           create_role / patch_role
delete_role                        delete_role
create_role_member                 add_member_role
delete_role_member                 remove_member_role
get_channel_member_permission      get_channel_member_permissions
put_channel_member_permission      put_channel_member_permissions
get_channel_role_permission        get_channel_role_permissions
put_channel_role_permission        put_channel_role_permissions
get_message_info                   get_message (get_messages: list)
send_msg / send_embed              post_message (or send/reply with Text, Image, Embed)
send_ark_23 / _24 / _37            post_message(ark=Ark.link_list/text_thumbnail/big_image(...))
send_markdown                      post_message(markdown=Markdown(...), keyboard=Keyboard(...))
(edit markdown message)            patch_message
delete_msg                         delete_message
get_guild_setting                  get_message_setting
create_dm_guild                    create_dms
send_dm / delete_dm_msg            post_dms / delete_dms
mute_all_member / mute_member      mute_all / mute_member
mute_members                       mute_members
create_announce / delete_announce  create_announce / delete_announce (+ channel_* deprecated)
create_pinmsg / delete_pinmsg      put_pin / delete_pin
get_pinmsg                         get_pins
get_schedules / get_schedule_info  get_schedules / get_schedule
create_schedule / patch_schedule   create_schedule / patch_schedule
delete_schedule                    delete_schedule
create_reaction / delete_reaction  put_reaction / delete_reaction
get_reaction_users                 get_reaction_users / iter_reaction_users
control_audio                      audio_control
bot_on_mic / bot_off_mic           mic_on / mic_off
get_threads / get_thread_info      get_threads / get_thread
create_thread / delete_thread      put_thread / delete_thread
get_guild_permissions              get_api_permissions
create_permission_demand           create_api_permission_demand
send_group_msg / send_qq_dm        post_group_message / post_c2c_message (or send/reply)
upload_media                       upload_group_media / upload_c2c_media
recall_group_msg / recall_qq_dm    recall_group_message / recall_c2c_message
generate_url_link                  generate_url_link
(interaction ack)                  interaction_callback
(setting guide)                    post_setting_guide / post_dms_setting_guide
(gateway)                          get_gateway / get_gateway_bot
(group members, unverified)        get_group_members
(anything else)                    request(method, path, ...)
=================================  =============================================================
"""

from __future__ import annotations

from qgactor.qq.api.client import ApiClient

__all__ = ["ApiClient"]
