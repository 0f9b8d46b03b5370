/*
 * ctrl_conn.c - the parts both TWAMP-Control machines share (see
 * ctrl_conn.h; control.md §6).
 */
#include "ctrl_conn.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "wire.h"

int tw_ctrl_conn_init(tw_ctrl_conn *k, uint32_t max_sessions, size_t min_cap)
{
	if (max_sessions > TW_CTRL_SESSIONS_LIMIT)
		return -EINVAL;
	size_t cap = TW_SIDS_BASE_LEN + (size_t)max_sessions * TW_SID_LEN;
	k->cap = cap > min_cap ? cap : min_cap;
	k->max_sessions = max_sessions;
	k->buf = malloc(k->cap);
	k->sess = calloc(max_sessions ? max_sessions : 1, sizeof(*k->sess));
	return k->buf && k->sess ? 0 : -ENOMEM;
}

void tw_ctrl_conn_fini(tw_ctrl_conn *k)
{
	tw_ctrl_crypto_free(k->crypto);
	tw_wipe(k->buf, k->buf ? k->cap : 0);
	free(k->buf);
	free(k->sess);
}

bool tw_ctrl_mode_keyed(uint32_t mode)
{
	uint32_t sec = tw_mode_security(mode);
	return sec == TW_MODE_AUTH || sec == TW_MODE_ENC || sec == TW_MODE_MIXED;
}

/* ---- input ---- */

void tw_ctrl_rx_reset(tw_ctrl_conn *k, size_t need)
{
	k->have = 0;
	k->dec = 0;
	k->need = need;
	k->len_known = false;
}

int tw_ctrl_rx_take(tw_ctrl_conn *k, const uint8_t *in, size_t len, size_t *used)
{
	size_t n = k->need - k->have;
	if (n > len - *used)
		n = len - *used;
	if (n > 0)
		memcpy(k->buf + k->have, in + *used, n);
	k->have += n;
	*used += n;
	/* keyed: the command's length is in its first decrypted block */
	size_t whole = k->have - k->have % TW_BLOCK_LEN;
	if (k->crypto && whole > k->dec) {
		int rc = tw_ctrl_decrypt(k->crypto, k->buf + k->dec, whole - k->dec);
		k->dec = whole;
		if (rc < 0)
			return -EIO;
	}
	return k->have == k->need;
}

uint8_t tw_ctrl_rx_cmd(const tw_ctrl_conn *k)
{
	tw_rd r = tw_rd_make(k->buf, 1);
	return tw_rd_u8(&r);
}

/* ---- HMACs ---- */

int tw_ctrl_seal(tw_ctrl_conn *k, uint8_t *msg, size_t len)
{
	if (!k->crypto)
		return 0;
	tw_ctrl_mac_add_tx(k->crypto, msg, len - TW_HMAC_LEN);
	int rc = tw_ctrl_mac_final_tx(k->crypto, msg + len - TW_HMAC_LEN);
	if (rc == 0)
		rc = tw_ctrl_encrypt(k->crypto, msg, len);
	return rc;
}

bool tw_ctrl_mac_ok(tw_ctrl_conn *k, const uint8_t *msg, size_t len)
{
	if (!k->crypto)
		return true;
	tw_ctrl_mac_add_rx(k->crypto, msg, len - TW_HMAC_LEN);
	return tw_ctrl_mac_verify_rx(k->crypto, msg + len - TW_HMAC_LEN);
}

/* ---- sessions ---- */

tw_ctrl_session *tw_ctrl_sess_find(tw_ctrl_conn *k, const uint8_t sid[TW_SID_LEN])
{
	for (uint32_t i = 0; i < k->nsess; i++)
		if (memcmp(k->sess[i].sid, sid, TW_SID_LEN) == 0)
			return &k->sess[i];
	return NULL;
}

void tw_ctrl_sess_add(tw_ctrl_conn *k, const uint8_t sid[TW_SID_LEN])
{
	memcpy(k->sess[k->nsess++].sid, sid, TW_SID_LEN);
}

void tw_ctrl_sess_set_running(tw_ctrl_conn *k, tw_ctrl_session *e, bool run)
{
	bool was = (e->flags & TW_CTRL_SESS_RUNNING) != 0;
	if (run && !was) {
		e->flags |= TW_CTRL_SESS_RUNNING | TW_CTRL_SESS_STARTED;
		k->nrunning++;
	} else if (!run && was) {
		e->flags &= (uint8_t)~TW_CTRL_SESS_RUNNING;
		k->nrunning--;
	}
}

void tw_ctrl_sess_start_new(tw_ctrl_conn *k)
{
	for (uint32_t i = 0; i < k->nsess; i++)
		if (!(k->sess[i].flags & TW_CTRL_SESS_STARTED))
			tw_ctrl_sess_set_running(k, &k->sess[i], true);
}

void tw_ctrl_sess_stop_all(tw_ctrl_conn *k)
{
	for (uint32_t i = 0; i < k->nsess; i++)
		tw_ctrl_sess_set_running(k, &k->sess[i], false);
}

/* ---- test keys ---- */

tw_test_crypto *tw_ctrl_test_crypto(const tw_ctrl_conn *k, uint32_t mode, const uint8_t sid[TW_SID_LEN])
{
	uint32_t sec = tw_mode_security(mode);
	if (!k->crypto || (sec != TW_MODE_AUTH && sec != TW_MODE_ENC))
		return NULL;
	uint8_t aes[TW_AES_KEY_LEN], hmac[TW_HMAC_KEY_LEN];
	tw_test_crypto *t = NULL;
	if (tw_ctrl_test_keys(k->crypto, sid, aes, hmac) == 0)
		t = tw_test_crypto_new(aes, hmac, sizeof(hmac), TW_MAC_HMAC_SHA1);
	tw_wipe(aes, sizeof(aes));
	tw_wipe(hmac, sizeof(hmac));
	return t;
}
