def test_desk_board_renders(client, auth):
    auth.login("desk")
    assert client.get("/jobs").status_code == 200
