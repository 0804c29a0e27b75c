// The @auth0/auth0-react page of sdk.mjs (bundled by esbuild at test time): a minimal app with
// Auth0Provider and useAuth0 — sign in, show the user, get an access token silently, sign out. The test
// reads the elements by id. window.SDK_CONFIG comes from the test's app server (/config.js).

import React, { useState } from 'react';
import { createRoot } from 'react-dom/client';
import { Auth0Provider, useAuth0 } from '@auth0/auth0-react';

const cfg = window.SDK_CONFIG;
const here = `${window.location.origin}/react.html`;

function App() {
  const { isLoading, isAuthenticated, user, error, loginWithRedirect, getAccessTokenSilently, logout } = useAuth0();
  const [token, setToken] = useState('');
  const [tokenError, setTokenError] = useState('');

  async function fetchToken() {
    setToken('');
    setTokenError('');
    try {
      setToken(await getAccessTokenSilently({ cacheMode: 'off' }));
    } catch (e) {
      setTokenError(e.error || e.message || String(e));
    }
  }

  if (isLoading) return <p id="status">loading</p>;
  return (
    <main>
      <p id="status">{isAuthenticated ? 'signed-in' : 'signed-out'}</p>
      {error ? <p id="error">{error.message}</p> : null}
      {isAuthenticated ? <p id="user">{user.email}</p> : null}
      <button id="login" onClick={() => loginWithRedirect()}>Sign in</button>
      <button id="token" onClick={fetchToken}>Get a token</button>
      <button id="logout" onClick={() => logout({ logoutParams: { returnTo: here } })}>Sign out</button>
      <p id="access-token">{token}</p>
      <p id="token-error">{tokenError}</p>
    </main>
  );
}

createRoot(document.getElementById('root')).render(
  <Auth0Provider
    domain={cfg.tenants.acme.domain}
    clientId={cfg.clients.react}
    cacheLocation="memory"
    authorizationParams={{ redirect_uri: here }}
    authorizeTimeoutInSeconds={10}
  >
    <App />
  </Auth0Provider>,
);
