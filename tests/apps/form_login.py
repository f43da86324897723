"""A FastAPI app whose login is the OAuth2 password flow (a form with username and password),
answering {"access_token", "token_type"}: the shape the gate must not assume away."""

from typing import Annotated

from fastapi import Depends, FastAPI, HTTPException
from fastapi.security import OAuth2PasswordRequestForm

app = FastAPI()
PASSWORD = "form-login-password-for-tests"  # noqa: S105 (a throwaway test account)


@app.post("/token")
def token(form: Annotated[OAuth2PasswordRequestForm, Depends()]) -> dict[str, str]:
    if form.username != "demo@example.test" or form.password != PASSWORD:
        raise HTTPException(status_code=401, detail="Incorrect username or password")
    return {"access_token": "header.payload.signature", "token_type": "bearer"}
