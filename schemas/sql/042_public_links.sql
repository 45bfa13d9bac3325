-- The public item page of every API listing (issue 12; MARKETPLACES.md): Shopee
-- https://shopee.vn/product/{shop_id}/{item_id}, TikTok Shop's product page by product id.
-- New items get it when their id is stored (jobs/flows_listing.c); this fills existing ones.
UPDATE listings l
  JOIN seller_accounts a ON a.id = l.account_id
  SET l.listing_url = CONCAT('https://shopee.vn/product/', a.external_shop_id, '/', l.external_item_id)
  WHERE l.marketplace_code = 'shopee' AND l.listing_url IS NULL
    AND l.external_item_id IS NOT NULL AND a.external_shop_id IS NOT NULL;
UPDATE listings
  SET listing_url = CONCAT('https://shop.tiktok.com/view/product/', external_item_id, '?region=VN&locale=vi-VN')
  WHERE marketplace_code = 'tiktok' AND listing_url IS NULL AND external_item_id IS NOT NULL;
