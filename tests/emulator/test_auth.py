"""Token endpoint (spec 2.3) and REST authentication (spec 2.2/2.3)."""

from __future__ import annotations

import httpx

from qgactor.emulator import Emulator, open_emulator


async def test_token_is_a_string_lifetime_and_stable(emu: Emulator, http: httpx.AsyncClient) -> None:
    body = {"appId": emu.appid, "clientSecret": emu.secret}
    r1 = await http.post(emu.token_url, json=body)
    assert r1.status_code == 200 and r1.headers["content-type"] == "application/json"
    data = r1.json()
    assert isinstance(data["expires_in"], str) and 7100 < int(data["expires_in"]) <= 7200
    r2 = await http.post(emu.token_url, json=body)
    assert r2.json()["access_token"] == data["access_token"]  # asking again does not refresh


async def test_token_overlap_rule(http: httpx.AsyncClient) -> None:
    async with open_emulator(token_lifetime=100.0, token_overlap=10.0) as e:
        body = {"appId": e.appid, "clientSecret": e.secret}
        old = (await http.post(e.token_url, json=body)).json()["access_token"]
        await e.control.advance_clock(95)  # inside the last 10 s
        new = (await http.post(e.token_url, json=body)).json()
        assert new["access_token"] != old and int(new["expires_in"]) > 90
        for tok in (old, new["access_token"]):  # both valid during the overlap
            r = await http.get(e.api_url + "/users/@me", headers={"Authorization": f"QQBot {tok}"})
            assert r.status_code == 200
        await e.control.advance_clock(6)  # old one expired now
        r = await http.get(e.api_url + "/users/@me", headers={"Authorization": f"QQBot {old}"})
        assert r.status_code == 401 and r.json()["code"] == 11244
        r = await http.get(e.api_url + "/users/@me", headers={"Authorization": f"QQBot {new['access_token']}"})
        assert r.status_code == 200


async def test_bad_credentials_and_bad_token_bodies(emu: Emulator, http: httpx.AsyncClient) -> None:
    r = await http.post(emu.token_url, json={"appId": emu.appid, "clientSecret": "wrong"})
    assert r.status_code == 401 and isinstance(r.json()["code"], int) and r.json()["message"]
    r = await http.post(emu.token_url, content=b"{not json")
    assert r.status_code == 400 and r.json()["code"] == 12002
    r = await http.post(emu.token_url, json=[1])
    assert r.status_code == 400
    r = await http.get(emu.token_url)
    assert r.status_code == 405
    assert "wrong" not in r.text and emu.secret not in r.text


async def test_rest_auth_schemes(emu: Emulator, http: httpx.AsyncClient, token: str) -> None:
    url = emu.api_url + "/users/@me"
    ok = [f"QQBot {token}", f"Bot {emu.appid}.{emu.legacy_token}"]
    for header in ok:
        r = await http.get(url, headers={"Authorization": header, "X-Union-Appid": emu.appid})
        assert r.status_code == 200, header
        assert r.json()["id"] == emu.world.bot.id and "X-Tps-trace-ID".lower() in r.headers
    cases = {None: 11241, "QQBot nope": 11244, f"Bot {emu.appid}.nope": 11243, "Basic abc": 11243}
    for header, code in cases.items():
        r = await http.get(url, headers={"Authorization": header} if header else {})
        assert r.status_code == 401 and r.json()["code"] == code, header
        assert r.headers["content-type"] == "application/json" and r.headers["x-tps-trace-id"]
    r = await http.get(url, headers={"Authorization": f"QQBot {token}", "X-Union-Appid": "999"})
    assert r.status_code == 401


async def test_legacy_token_can_be_disabled(http: httpx.AsyncClient) -> None:
    async with open_emulator(accept_legacy_token=False) as e:
        r = await http.get(e.api_url + "/users/@me", headers={"Authorization": f"Bot {e.appid}.{e.legacy_token}"})
        assert r.status_code == 401
