"""Requisites from the online service: the DaData client, single look-ups and
the batch refresh of client cards."""
